// What a consumer of each entry point installs (README, "Install"): packs this package as npm
// would publish it (run `npm run build` first), installs the tarball into empty projects with
// `npm install --engine-strict` (the npm cache first, the registry for what it lacks), once per
// entry with the optional peer dependencies that entry needs, and prints each node_modules' size
// (the sum of its files' sizes) and what it holds.
//   node scripts/install-sizes.mjs [--json]
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
export const ENTRIES = [
  { entry: 'chunkstream, chunkstream/client, the CLI', peers: [] },
  { entry: 'chunkstream/server', peers: ['pino', 'prom-client'] },
  { entry: 'chunkstream/s3', peers: ['@aws-sdk/client-s3'] },
];

const work = mkdtempSync(path.join(tmpdir(), 'chunkstream-install-'));
try {
  execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', work], { cwd: root });
  const tarball = path.join(work, `chunkstream-${pkg.version}.tgz`);
  const rows = [];
  for (const [i, { entry, peers }] of ENTRIES.entries()) {
    const dir = path.join(work, `consumer-${i}`);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const specs = [tarball, ...peers.map((p) => `${p}@${pkg.peerDependencies[p]}`)];
    execFileSync('npm', ['install', '--engine-strict', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const nm = path.join(dir, 'node_modules');
    rows.push({ entry, peers, bytes: sizeOf(nm), packages: countPackages(nm) });
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(rows, null, 2));
  else {
    console.log('| entry | npm install | node_modules | packages |\n| --- | --- | ---: | ---: |');
    for (const r of rows)
      console.log(
        `| ${r.entry} | \`chunkstream${r.peers.map((p) => ` ${p}`).join('')}\` | ${(r.bytes / 2 ** 20).toFixed(1)} MiB | ${r.packages} |`,
      );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

function sizeOf(p) {
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  return readdirSync(p).reduce((n, f) => n + sizeOf(path.join(p, f)), 0);
}

function countPackages(nm) {
  let n = 0;
  for (const f of readdirSync(nm)) {
    if (f.startsWith('.')) continue;
    n += f.startsWith('@') ? readdirSync(path.join(nm, f)).length : 1;
  }
  return n;
}
