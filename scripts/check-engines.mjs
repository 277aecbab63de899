// CI: every package the lock file installs must admit the Node versions package.json declares.
// `npm install` only warns (EBADENGINE) when a dependency wants a newer Node than ours, and
// only about the Node it runs on, so a CI on a new Node never notices that an update dropped
// our oldest line. Checked against the lock file, not node_modules: it covers every platform's
// optional packages (esbuild's, rolldown's), not only those installed here.
//
// - Every package must admit every version of the declared range's lowest major (20.x from
//   20.19.0 today): that is the line a user is most likely to be stuck on.
// - Runtime packages (what a consumer of chunkstream installs) must admit the whole declared
//   range: `npm install --engine-strict chunkstream` must work on any Node we claim.
// - Every package must admit some version of each current LTS line in the range (22, 24), so
//   the tools run there too. (Dev tools may skip odd majors and early minors: eslint wants 22.13+.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';

const LTS_LINES = [22, 24];
const root = path.resolve(import.meta.dirname, '..');
const lockFile = process.argv[2] ?? path.join(root, 'package-lock.json');
const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
const declared = lock.packages?.['']?.engines?.node;
if (!declared || !semver.validRange(declared)) fail([`${lockFile}: the root package declares no valid engines.node (${declared})`]);

const lowest = semver.minVersion(declared);
const lowestMajor = `>=${lowest.version} <${lowest.major + 1}.0.0-0`;
const problems = [];
for (const [where, pkg] of Object.entries(lock.packages)) {
  if (where === '' || pkg.link) continue;
  const wanted = nodeRange(pkg.engines);
  if (wanted === undefined) continue;
  const name = `${where.replace(/^.*node_modules\//, '')}@${pkg.version}${pkg.dev ? ' (dev)' : ''}`;
  if (!semver.validRange(wanted)) {
    problems.push(`${name}: engines.node "${wanted}" is not a range`);
  } else if (!semver.subset(lowestMajor, wanted)) {
    problems.push(`${name}: engines.node "${wanted}" does not admit all of Node ${lowestMajor}`);
  } else if (!pkg.dev && !semver.subset(declared, wanted)) {
    problems.push(`${name}: engines.node "${wanted}" does not admit all of our "${declared}" (a runtime dependency)`);
  } else {
    for (const major of LTS_LINES) {
      const line = `>=${major}.0.0 <${major + 1}.0.0-0`;
      if (semver.intersects(line, declared) && !semver.intersects(line, wanted)) {
        problems.push(`${name}: engines.node "${wanted}" admits no Node ${major}`);
      }
    }
  }
}
if (problems.length > 0) fail(problems);
console.log(`engines: every package of ${path.basename(lockFile)} admits Node ${lowestMajor} (declared "${declared}")`);

/** The node range of an `engines` field: an object (`{ node }`) or, in old packages, an array (`["node >= 0.4"]`). */
function nodeRange(engines) {
  if (!engines) return undefined;
  if (Array.isArray(engines)) {
    const entry = engines.find((e) => /^node\b/.test(e));
    return entry === undefined ? undefined : entry.replace(/^node\s*/, '');
  }
  return typeof engines.node === 'string' ? engines.node : undefined;
}

function fail(lines) {
  for (const line of lines) console.error(`check-engines: ${line}`);
  console.error(`check-engines: ${lines.length} package(s) do not support the declared Node range; pin or replace them.`);
  process.exit(1);
}
