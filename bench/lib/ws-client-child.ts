// Scenario 5's two clients in a process of their own, started with a heap limit out of the band
// where V8 runs a full GC every few WebSocket messages (bench/findings.md §5). On an IPC message
// { run: 'sdk' | 'raw' } it downloads once and answers { ok: true } or { error }.
// Usage (as a child with an IPC channel): node --initial-heap-size=200 --import tsx bench/lib/ws-client-child.ts SDK_URL FILE_ID RAW_URL SIZE
import { WebSocket } from 'ws';
import { connect } from '../../src/client/index.js';
import { drain, expectBytes } from './fixtures.js';
import { rawWsGet } from './ws-clients.js';

const [sdkUrl, id, rawUrl, size] = process.argv.slice(2) as [string, string, string, string];
const client = await connect(sdkUrl, { WebSocket: WebSocket as never });
process.on('message', (m: { run: 'sdk' | 'raw' }) => {
  const done =
    m.run === 'sdk' ? drain(client.download(id)).then((n) => expectBytes(n, Number(size), 'sdk download')) : rawWsGet(rawUrl, Number(size));
  done.then(
    () => process.send!({ ok: true }),
    (err: unknown) => process.send!({ error: String(err) }),
  );
});
process.on('disconnect', () => void client.close().then(() => process.exit(0)));
process.send!({ ready: true });
