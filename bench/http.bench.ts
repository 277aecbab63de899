/**
 * Scenario 4 — HTTP GET of a 1 GiB file (quick: 256 MiB): the chunkstream server (CLI `serve`,
 * GET /v1/files/:id) against a plain Node static server (`fs.createReadStream(file).pipe(res)`)
 * serving the same bytes from a plain file. Both are child processes on 127.0.0.1; the client is
 * the same `http.get` in this process, counting and dropping the bytes.
 */
import path from 'node:path';
import { GiB, MiB, QUICK, defaultOptions, runCases, startSuite, type BenchCase } from './lib/harness.js';
import { httpGet } from './lib/clients.js';
import { cleanupAll, prepareBigFile } from './lib/fixtures.js';
import { ROOT, chunkstreamServer, serverMissing, spawnServer, type Child } from './lib/servers.js';

const run = startSuite('http', 'HTTP GET of 1 GiB vs a plain Node static server (scenario 4)');
const SIZE = QUICK ? 128 * MiB : 1 * GiB;

const missing = serverMissing();
if (missing) {
  run.finish({ setup: {}, cases: [], derived: [], notes: [], skipped: `not run: ${missing}` });
} else {
  const f = await prepareBigFile('http', SIZE);
  const servers: Child[] = [];
  try {
    const cs = await chunkstreamServer(f.dir);
    servers.push(cs);
    const st = await spawnServer(path.join(ROOT, 'bench/lib/static-server.ts'), [f.plain]);
    servers.push(st);
    const opts = defaultOptions('large');
    const cases: BenchCase[] = [
      {
        name: 'chunkstream GET /v1/files/:id',
        fn: () => httpGet(`${cs.url}/v1/files/${f.id}`, SIZE),
        bytes: SIZE,
        params: { server: 'chunkstream' },
        options: opts,
      },
      {
        name: 'node static createReadStream().pipe(res)',
        fn: () => httpGet(`${st.url}/`, SIZE),
        bytes: SIZE,
        params: { server: 'static' },
        options: opts,
      },
    ];
    const results = await runCases('http', cases);
    const [c, s] = results as [(typeof results)[0], (typeof results)[0]];
    const ratio = c.mbps! / s.mbps!;
    run.finish({
      setup: {
        size: SIZE,
        chunkSize: f.chunkSize,
        server:
          'CLI `serve --dir D --host 127.0.0.1 --port 0` (node --import tsx src/cli/main.ts), default downloadConcurrency 4, files in the page cache',
        reference: 'bench/lib/static-server.ts: createReadStream(file).pipe(res), same bytes in a plain file',
        client: 'http.get (no keep-alive agent), counting bytes, in the benchmark process',
      },
      cases: results,
      derived: [{ chunkstreamMbps: c.mbps, staticMbps: s.mbps, ratio, target: 0.8, met: ratio >= 0.8 }],
      notes: [],
      chart: {
        title: '4. HTTP GET 1 GiB (MB/s)',
        unit: 'MB/s',
        bars: results.map((r) => ({ label: r.name, value: r.mbps!, group: String(r.params.server) })),
        lines: [{ label: '0.8 × static', value: 0.8 * s.mbps! }],
      },
    });
  } finally {
    for (const s of servers) await s.stop();
    cleanupAll();
  }
}
