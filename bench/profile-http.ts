// Ad-hoc: profiles the chunkstream server (child, --cpu-prof into /tmp/prof) serving GETs.
//   node --import tsx bench/profile-http.ts [MiB] [reps]
import { spawn } from 'node:child_process';
import path from 'node:path';
import { MiB } from './lib/harness.js';
import { cleanupAll, prepareBigFile } from './lib/fixtures.js';
import { ROOT } from './lib/servers.js';
import { httpGet } from './lib/clients.js';

const size = Number(process.argv[2] ?? 256) * MiB;
const f = await prepareBigFile('profhttp', size);
const child = spawn(
  process.execPath,
  [
    '--cpu-prof',
    '--cpu-prof-dir=/tmp/prof',
    '--import',
    'tsx',
    path.join(ROOT, 'src/cli/main.ts'),
    'serve',
    '--dir',
    f.dir,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const url = await new Promise<string>((resolve) =>
  child.stdout.on('data', (d: Buffer) => {
    const m = /listening on (\S+)/.exec(d.toString());
    if (m) resolve(m[1]!);
  }),
);
for (let i = 0; i < Number(process.argv[3] ?? 3); i++) {
  const t0 = performance.now();
  await httpGet(`${url}/v1/files/${f.id}`, size);
  console.log(`GET ${size / MiB} MiB: ${(size / 1e6 / ((performance.now() - t0) / 1000)).toFixed(0)} MB/s`);
}
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
cleanupAll();
