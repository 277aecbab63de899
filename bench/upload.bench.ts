/**
 * Scenario 3 — upload of a 512 MiB local file (quick: 128 MiB) as a user does it:
 * `chunkstream put FILE --dir D` (the built CLI, fsync on: durable when it prints the id), against
 * two peers on the same bytes in the same run, interleaved: one-core SHA-256 of the file
 * (node:crypto, reading it in 4 MiB pieces) and `cp FILE D && sync`. Every put goes into a fresh
 * store directory (no deduplication against an earlier run), removed after it and the disk synced,
 * untimed. The file is in the page cache (read once before).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { MiB, QUICK, startSuite } from './lib/harness.js';
import { randomBuffer, removeDir, tempDir } from './lib/fixtures.js';
import { runInterleaved, type TimedCase } from './lib/interleave.js';
import { ROOT } from './lib/servers.js';

const run = startSuite('upload', `Upload of a ${QUICK ? 128 : 512} MiB file with the CLI vs SHA-256 and cp + sync (scenario 3)`);
const SIZE = (QUICK ? 128 : 512) * MiB;
const work = tempDir('upload');
const file = path.join(work, 'big.bin');
writeFileSync(file, randomBuffer(SIZE));
readFileSync(file); // into the page cache
const cli = path.join(ROOT, 'dist/cli/main.js');
const sha = path.join(ROOT, 'bench/lib/sha256-file.mjs');

let target = '';
const fresh = async () => {
  target = tempDir('upload-dest');
};
// Untimed, after every case: the removal's own disk work (and anything else dirty) is flushed
// here, not left to the next case's syncs.
const clean = async () => {
  removeDir(target);
  execFileSync('sync');
};
const put = (name: string, env: NodeJS.ProcessEnv, variant: string): TimedCase => ({
  name,
  cmd: () => [process.execPath, cli, 'put', file, '--dir', target, '--quiet'],
  before: fresh,
  after: clean,
  env,
  bytes: SIZE,
  params: { variant },
});
const cases: TimedCase[] = [
  { name: 'sha256 of the file, 1 core (node:crypto)', cmd: [process.execPath, sha, file], bytes: SIZE, params: { variant: 'sha256' } },
  {
    name: 'cp FILE D && sync',
    cmd: () => ['sh', '-c', `cp "${file}" "${target}/copy" && sync`],
    before: fresh,
    after: clean,
    bytes: SIZE,
    params: { variant: 'cp+sync' },
  },
  put('chunkstream put FILE --dir D', {}, 'chunkstream'),
  put('chunkstream put, hash threads 0 (all on the event loop)', { CHUNKSTREAM_HASH_THREADS: '0' }, 'chunkstream threads 0'),
];

const results = await runInterleaved(cases, { reps: QUICK ? 3 : 7 });
const t = (v: string) => results.find((r) => r.params.variant === v)!.medianMs;
const derived = ['chunkstream', 'chunkstream threads 0'].map((v) => ({
  variant: v,
  putMs: t(v),
  sha256Ms: t('sha256'),
  cpSyncMs: t('cp+sync'),
  vsSha256: t('sha256') / t(v),
  vsCpSync: t('cp+sync') / t(v),
  target: 0.6,
  met: t('sha256') / t(v) >= 0.6 && t('cp+sync') / t(v) >= 0.6,
}));

run.finish({
  setup: {
    size: SIZE,
    command: '`node dist/cli/main.js put FILE --dir D` (defaults: 4 MiB chunks, upload concurrency 4, fsync on), a fresh D per run',
    peers: 'bench/lib/sha256-file.mjs (createHash over 4 MiB reads, one core); `cp FILE D/copy && sync`',
    order: 'interleaved: each repetition runs every case once; medians of the repetitions',
  },
  cases: results,
  derived,
  notes: [],
  chart: {
    title: `3. Upload of a ${SIZE / MiB} MiB file (throughput ÷ one-core SHA-256, higher is better)`,
    unit: '× sha256 1 core',
    bars: results.map((r) => ({ label: r.name, value: t('sha256') / r.medianMs, group: String(r.params.variant) })),
    lines: [{ label: 'target 0.6×', value: 0.6 }],
  },
});
