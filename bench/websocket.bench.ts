/**
 * Scenario 5 — WebSocket download of 1 GiB (quick: 256 MiB): the chunkstream server's gateway
 * (/v1/ws) read with the client SDK (`connect(url).download(id)`, which also verifies the whole
 * file's SHA-256 as it arrives), against a raw `ws` server sending the same bytes in chunk-sized
 * binary frames with simple bufferedAmount backpressure, read by a raw `ws` client. Servers are
 * child processes on 127.0.0.1; clients run in this process. A third case measures the client
 * SDK's hash alone (@noble/hashes sha256, pure JS) over the same number of bytes.
 */
import path from 'node:path';
import { WebSocket } from 'ws';
import { GiB, MiB, QUICK, defaultOptions, runCases, startSuite, type BenchCase } from './lib/harness.js';
import { cleanupAll, drain, expectBytes, prepareBigFile } from './lib/fixtures.js';
import { ROOT, chunkstreamServer, clientMissing, serverMissing, spawnServer, type Child } from './lib/servers.js';

const run = startSuite('websocket', 'WebSocket download of 1 GiB vs a raw ws server (scenario 5)');
const SIZE = QUICK ? 64 * MiB : 1 * GiB;

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

const missing = serverMissing() ?? clientMissing();
if (missing) {
  run.finish({ setup: {}, cases: [], derived: [], notes: [], skipped: `not run: ${missing}` });
} else {
  const { connect } = await import('../src/client/index.js');
  const f = await prepareBigFile('ws', SIZE);
  const servers: Child[] = [];
  try {
    const cs = await chunkstreamServer(f.dir);
    servers.push(cs);
    const raw = await spawnServer(path.join(ROOT, 'bench/lib/raw-ws-server.ts'), [f.plain, String(f.chunkSize)]);
    servers.push(raw);
    const wsUrl = (u: string, p: string) => `${u.replace(/^http/, 'ws')}${p}`;
    const client = await connect(wsUrl(cs.url, '/v1/ws'), { WebSocket: WebSocket as never });
    const opts = defaultOptions('large');
    const slowOpts = { ...opts, minSamples: 2 };
    const cases: BenchCase[] = [
      {
        name: 'chunkstream gateway + client SDK',
        fn: async () => expectBytes(await drain(client.download(f.id)), SIZE, 'sdk download'),
        bytes: SIZE,
        params: { server: 'chunkstream' },
        options: slowOpts,
      },
      {
        name: 'raw ws server + raw ws client',
        fn: () => rawWsGet(wsUrl(raw.url, '/'), SIZE),
        bytes: SIZE,
        params: { server: 'raw-ws' },
        options: opts,
      },
    ];
    const results = await runCases('websocket', cases);
    await client.close();
    const [c, r] = results as [(typeof results)[0], (typeof results)[0]];
    const ratio = c.mbps! / r.mbps!;
    run.finish({
      setup: {
        size: SIZE,
        chunkSize: f.chunkSize,
        server: 'CLI `serve` (node --import tsx src/cli/main.ts), /v1/ws, default window',
        client: 'connect(ws://…/v1/ws, { WebSocket: ws }).download(id), one connection reused across ops',
        reference:
          'bench/lib/raw-ws-server.ts: FileHandle.read per chunk, ws.send, wait while bufferedAmount > 2 chunks; raw ws client counting bytes',
      },
      cases: results,
      derived: [{ chunkstreamMbps: c.mbps, rawWsMbps: r.mbps, ratio, target: 0.8, met: ratio >= 0.8 }],
      notes: [],
      chart: {
        title: '5. WebSocket download 1 GiB (MB/s)',
        unit: 'MB/s',
        bars: results.map((x) => ({ label: x.name, value: x.mbps!, group: String(x.params.server) })),
        lines: [{ label: '0.8 × raw ws', value: 0.8 * r.mbps! }],
      },
    });
  } finally {
    for (const s of servers) await s.stop();
    cleanupAll();
  }
}
