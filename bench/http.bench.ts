/**
 * Scenario 4 — HTTP GET of a 512 MiB file (quick: 128 MiB) with curl, as a user fetches it:
 * the chunkstream server (the built CLI's `serve`, GET /v1/files/:id: every chunk read and
 * verified) against nginx serving the same bytes from a plain file (sendfile), and a plain Node
 * static server (`createReadStream().pipe(res)`). Servers are child processes on 127.0.0.1, each
 * GET is one `curl -s -o /dev/null` process; the cases are interleaved, medians reported.
 * `serve` keeps hot chunks in memory by default (--cache-size): after the warm-up its GETs are
 * hot; a second server with `--cache-size 0` gives the cold ratio (every chunk read and hashed,
 * the page cache warm). And 100 clients at once reading one hot 64 MiB file (quick: 16 MiB), against
 * nginx serving the same: aggregate throughput.
 */
import path from 'node:path';
import { MiB, QUICK, startSuite } from './lib/harness.js';
import { cleanupAll, prepareBigFile } from './lib/fixtures.js';
import { runInterleaved, type TimedCase } from './lib/interleave.js';
import { nginxMissing, startNginx } from './lib/nginx.js';
import { ROOT, chunkstreamServer, serverMissing, spawnServer } from './lib/servers.js';

const run = startSuite('http', `HTTP GET of ${QUICK ? 128 : 512} MiB with curl vs nginx (scenario 4)`);
const SIZE = (QUICK ? 128 : 512) * MiB;
const MANY = 100;
const HOT = (QUICK ? 16 : 64) * MiB;

const missing = serverMissing() ?? nginxMissing();
if (missing) {
  run.finish({ setup: {}, cases: [], derived: [], notes: [], skipped: `not run: ${missing}` });
} else {
  const f = await prepareBigFile('http', SIZE);
  const cs = await chunkstreamServer(f.dir);
  const cold = await chunkstreamServer(f.dir, ['--cache-size', '0']);
  const hot = await prepareBigFile('http-hot', HOT);
  // Every client reserves its window in the budget, cached or not, and all come from one address.
  const csMany = await chunkstreamServer(hot.dir, ['--max-transfer-bytes', '8GiB', '--max-client-share', '100%']);
  const nginx = await startNginx(path.dirname(f.plain));
  const nginxMany = await startNginx(path.dirname(hot.plain));
  const st = await spawnServer(path.join(ROOT, 'bench/lib/static-server.ts'), [f.plain]);
  try {
    const curl = (url: string): string[] => ['curl', '-sf', '-o', '/dev/null', url];
    // xargs exits non-zero if any of the curls failed.
    const many = (url: string): string[] => ['sh', '-c', `seq ${MANY} | xargs -P ${MANY} -I{} curl -sf -o /dev/null '${url}'`];
    const cases: TimedCase[] = [
      { name: 'chunkstream GET /v1/files/:id', cmd: curl(`${cs.url}/v1/files/${f.id}`), bytes: SIZE, params: { server: 'chunkstream' } },
      { name: 'nginx (sendfile)', cmd: curl(`${nginx.url}/${path.basename(f.plain)}`), bytes: SIZE, params: { server: 'nginx' } },
      { name: 'node static createReadStream().pipe(res)', cmd: curl(`${st.url}/`), bytes: SIZE, params: { server: 'static' } },
      {
        name: 'chunkstream, no cache (--cache-size 0)',
        cmd: curl(`${cold.url}/v1/files/${f.id}`),
        bytes: SIZE,
        params: { server: 'cold' },
      },
      {
        name: `${MANY} clients × chunkstream, hot ${HOT / MiB} MiB`,
        cmd: many(`${csMany.url}/v1/files/${hot.id}`),
        bytes: MANY * HOT,
        params: { server: 'chunkstream-many' },
      },
      {
        name: `${MANY} clients × nginx, ${HOT / MiB} MiB`,
        cmd: many(`${nginxMany.url}/${path.basename(hot.plain)}`),
        bytes: MANY * HOT,
        params: { server: 'nginx-many' },
      },
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
          coldRatio: ms('nginx') / ms('cold'),
          manyRatio: ms('nginx-many') / ms('chunkstream-many'),
          target: 0.5,
          met: ratio >= 0.5,
        },
      ],
      notes: [],
      chart: {
        title: `4. HTTP GET ${SIZE / MiB} MiB with curl (MB/s)`,
        unit: 'MB/s',
        bars: results
          .filter((r) => !String(r.params.server).endsWith('-many'))
          .map((r) => ({ label: r.name, value: r.mbps!, group: String(r.params.server) })),
        lines: [{ label: '0.5 × nginx', value: 0.5 * results[1]!.mbps! }],
      },
    });
  } finally {
    await cs.stop();
    await cold.stop();
    await csMany.stop();
    await st.stop();
    await nginx.stop();
    await nginxMany.stop();
    cleanupAll();
  }
}
