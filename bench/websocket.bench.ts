/**
 * Scenario 5 — WebSocket download of 512 MiB (quick: 128 MiB): the chunkstream server's gateway
 * (/v1/ws, the built CLI's `serve`) read with the client SDK (`connect(url).download(id)`, which
 * verifies every chunk against its SHA-256 before delivering it), against a raw `ws` server
 * sending the same bytes in chunk-sized binary frames with simple bufferedAmount backpressure,
 * read by a raw `ws` client. Servers are child processes on 127.0.0.1; clients run in this
 * process; the cases are interleaved, medians reported.
 */
import path from 'node:path';
import { WebSocket } from 'ws';
import { MiB, QUICK, startSuite } from './lib/harness.js';
import { cleanupAll, drain, expectBytes, prepareBigFile } from './lib/fixtures.js';
import { runInterleaved, type TimedCase } from './lib/interleave.js';
import { ROOT, chunkstreamServer, serverMissing, spawnServer } from './lib/servers.js';

const run = startSuite('websocket', `WebSocket download of ${QUICK ? 128 : 512} MiB vs a raw ws server (scenario 5)`);
const SIZE = (QUICK ? 128 : 512) * MiB;

function rawWsGet(url: string, expect: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 256 * MiB });
    let n = 0;
    ws.on('open', () => ws.send('go'));
    ws.on('message', (data: Buffer) => {
      n += data.byteLength;
      if (n >= expect) ws.close();
    });
    ws.on('close', () => (n === expect ? resolve() : reject(new Error(`raw ws: ${n} bytes, expected ${expect}`))));
    ws.on('error', reject);
  });
}

const missing = serverMissing();
if (missing) {
  run.finish({ setup: {}, cases: [], derived: [], notes: [], skipped: `not run: ${missing}` });
} else {
  const { connect } = await import('../src/client/index.js');
  const f = await prepareBigFile('ws', SIZE);
  const cs = await chunkstreamServer(f.dir);
  const raw = await spawnServer(path.join(ROOT, 'bench/lib/raw-ws-server.ts'), [f.plain, String(f.chunkSize)]);
  const wsUrl = (u: string, p: string) => `${u.replace(/^http/, 'ws')}${p}`;
  const client = await connect(wsUrl(cs.url, '/v1/ws'), { WebSocket: WebSocket as never });
  try {
    const cases: TimedCase[] = [
      {
        name: 'chunkstream gateway + client SDK (every chunk verified on both ends)',
        fn: async () => expectBytes(await drain(client.download(f.id)), SIZE, 'sdk download'),
        bytes: SIZE,
        params: { server: 'chunkstream' },
      },
      { name: 'raw ws server + raw ws client', fn: () => rawWsGet(wsUrl(raw.url, '/'), SIZE), bytes: SIZE, params: { server: 'raw-ws' } },
    ];
    const results = await runInterleaved(cases, { reps: QUICK ? 3 : 9 });
    const [c, r] = results as [(typeof results)[0], (typeof results)[0]];
    const ratio = r.medianMs / c.medianMs;
    run.finish({
      setup: {
        size: SIZE,
        chunkSize: f.chunkSize,
        server: '`node dist/cli/main.js serve`, /v1/ws, default window (server reads 4 ahead, the SDK grants 8)',
        client: 'connect(ws://…/v1/ws, { WebSocket: ws }).download(id), one connection reused across runs',
        reference:
          'bench/lib/raw-ws-server.ts: FileHandle.read per chunk, ws.send, wait while bufferedAmount > 2 chunks; raw ws client counting bytes',
      },
      cases: results,
      derived: [{ chunkstreamMbps: c.mbps, rawWsMbps: r.mbps, ratio, target: 0.8, met: ratio >= 0.8 }],
      notes: [],
      chart: {
        title: `5. WebSocket download ${SIZE / MiB} MiB (MB/s)`,
        unit: 'MB/s',
        bars: results.map((x) => ({ label: x.name, value: x.mbps!, group: String(x.params.server) })),
        lines: [{ label: '0.8 × raw ws', value: 0.8 * r.mbps! }],
      },
    });
  } finally {
    await client.close();
    await cs.stop();
    await raw.stop();
    cleanupAll();
  }
}
