/**
 * Scenario 4 — HTTP GET of a 512 MiB file (quick: 128 MiB) with curl, as a user fetches it:
 * the chunkstream server (the built CLI's `serve`, GET /v1/files/:id: every chunk read and
 * verified) against nginx serving the same bytes from a plain file (sendfile), and a plain Node
 * static server (`createReadStream().pipe(res)`). Servers are child processes on 127.0.0.1, each
 * GET is one `curl -s -o /dev/null` process; the cases are interleaved, medians reported.
 */
import path from 'node:path';
import { MiB, QUICK, startSuite } from './lib/harness.js';
import { cleanupAll, prepareBigFile } from './lib/fixtures.js';
import { runInterleaved, type TimedCase } from './lib/interleave.js';
import { nginxMissing, startNginx } from './lib/nginx.js';
import { ROOT, chunkstreamServer, serverMissing, spawnServer } from './lib/servers.js';

const run = startSuite('http', `HTTP GET of ${QUICK ? 128 : 512} MiB with curl vs nginx (scenario 4)`);
const SIZE = (QUICK ? 128 : 512) * MiB;

const missing = serverMissing() ?? nginxMissing();
if (missing) {
  run.finish({ setup: {}, cases: [], derived: [], notes: [], skipped: `not run: ${missing}` });
} else {
  const f = await prepareBigFile('http', SIZE);
  const cs = await chunkstreamServer(f.dir);
  const nginx = await startNginx(path.dirname(f.plain));
  const st = await spawnServer(path.join(ROOT, 'bench/lib/static-server.ts'), [f.plain]);
  try {
    const curl = (url: string): string[] => ['curl', '-sf', '-o', '/dev/null', url];
    const cases: TimedCase[] = [
      { name: 'chunkstream GET /v1/files/:id', cmd: curl(`${cs.url}/v1/files/${f.id}`), bytes: SIZE, params: { server: 'chunkstream' } },
      { name: 'nginx (sendfile)', cmd: curl(`${nginx.url}/${path.basename(f.plain)}`), bytes: SIZE, params: { server: 'nginx' } },
      { name: 'node static createReadStream().pipe(res)', cmd: curl(`${st.url}/`), bytes: SIZE, params: { server: 'static' } },
    ];
    const results = await runInterleaved(cases, { reps: QUICK ? 3 : 9 });
    const ms = (s: string) => results.find((r) => r.params.server === s)!.medianMs;
    const ratio = ms('nginx') / ms('chunkstream');
    run.finish({
      setup: {
        size: SIZE,
        chunkSize: f.chunkSize,
        server:
          '`node dist/cli/main.js serve --dir D --host 127.0.0.1 --port 0` (defaults: download concurrency 4), files in the page cache',
        peers:
          'nginx (Debian package, own config: sendfile on, access_log off) on the same bytes as a plain file; bench/lib/static-server.ts',
        client: '`curl -sf -o /dev/null URL`, one process per GET, interleaved',
      },
      cases: results,
      derived: [
        {
          chunkstreamMbps: results[0]!.mbps,
          nginxMbps: results[1]!.mbps,
          staticMbps: results[2]!.mbps,
          ratio,
          vsStatic: ms('static') / ms('chunkstream'),
          target: 0.5,
          met: ratio >= 0.5,
        },
      ],
      notes: [],
      chart: {
        title: `4. HTTP GET ${SIZE / MiB} MiB with curl (MB/s)`,
        unit: 'MB/s',
        bars: results.map((r) => ({ label: r.name, value: r.mbps!, group: String(r.params.server) })),
        lines: [{ label: '0.5 × nginx', value: 0.5 * results[1]!.mbps! }],
      },
    });
  } finally {
    await cs.stop();
    await st.stop();
    await nginx.stop();
    cleanupAll();
  }
}
