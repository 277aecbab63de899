/**
 * Scenario 3 — upload of 1 GiB of random bytes (quick: 256 MiB), upload concurrency 1, 2, 4,
 * against the single-core SHA-256 throughput (node:crypto) of the same bytes, measured in the
 * same run. The source is handed over in 64 KiB pieces (what a file stream or a socket gives),
 * so the chunker copies each byte once into a chunk buffer. Each op uploads into a fresh store
 * directory (no deduplication against the previous op), removed after the op, untimed.
 */
import { createHash } from 'node:crypto';
import { lastValueFrom } from 'rxjs';
import { openStore } from '../src/index.js';
import { DEFAULTS } from '../src/options.js';
import { GiB, MiB, QUICK, defaultOptions, runCases, startSuite, type BenchCase, type CaseResult } from './lib/harness.js';
import { discardChunksStore, pieces, randomBuffer, removeDir, tempDir } from './lib/fixtures.js';
import { restoreDefault, variants } from './lib/variants.js';

const run = startSuite('upload', QUICK ? 'Upload 64 MiB of random bytes (scenario 3, quick)' : 'Upload 1 GiB of random bytes (scenario 3)');
const SIZE = QUICK ? 64 * MiB : 1 * GiB;
const PIECE = 64 * 1024;
const CHUNK = DEFAULTS.chunkSize;
const NS = [1, 2, 4];
const data = randomBuffer(SIZE);
const opts = defaultOptions('large');

const sha = (buf: Uint8Array) => {
  const h = createHash('sha256');
  for (let off = 0; off < buf.byteLength; off += MiB) h.update(buf.subarray(off, Math.min(off + MiB, buf.byteLength)));
  return h.digest('hex');
};

const cases: BenchCase[] = [
  { name: 'sha256 1 core (reference)', fn: async () => void sha(data), bytes: SIZE, params: { variant: 'sha256' }, options: opts },
  {
    name: 'sha256 twice: chunk keys + file hash, 1 core',
    fn: async () => {
      const file = createHash('sha256');
      for (let off = 0; off < SIZE; off += CHUNK) {
        const chunk = data.subarray(off, Math.min(off + CHUNK, SIZE));
        createHash('sha256').update(chunk).digest('hex');
        file.update(chunk);
      }
      file.digest('hex');
    },
    bytes: SIZE,
    params: { variant: 'sha256x2' },
    options: opts,
  },
];

const engineVariants = await variants();
for (const storeKind of ['fs', 'discard'] as const) {
  for (const v of engineVariants) {
    for (const n of NS) {
      let dir = '';
      cases.push({
        name: `${v.name} → ${storeKind} N=${n}`,
        fn: async () => {
          v.enable();
          dir = storeKind === 'fs' ? tempDir('up') : '';
          const store =
            storeKind === 'fs'
              ? openStore({ dir, fsync: false, uploadConcurrency: n })
              : openStore({ chunkStore: discardChunksStore(), uploadConcurrency: n });
          const last = await lastValueFrom(store.upload(pieces(data, PIECE), { name: 'big.bin' }));
          if (last.type !== 'committed' || last.file.size !== SIZE) throw new Error('upload did not commit');
          await store.close();
        },
        after: async () => {
          if (dir) removeDir(dir);
        },
        bytes: SIZE,
        params: { n, variant: v.name, store: storeKind },
        options: opts,
      });
    }
  }
}

const results = await runCases('upload', cases);
restoreDefault();

const ref = results.find((r) => r.params.variant === 'sha256')!;
const derived = results
  .filter((r: CaseResult) => r.params.n !== undefined)
  .map((r) => ({
    variant: r.params.variant,
    store: r.params.store,
    n: r.params.n,
    mbps: r.mbps,
    sha256Mbps: ref.mbps,
    ratio: r.mbps! / ref.mbps!,
    target: 0.8,
    met: r.mbps! / ref.mbps! >= 0.8,
    stretchTarget: 1.3,
    stretchMet: r.mbps! / ref.mbps! >= 1.3,
  }));

run.finish({
  setup: {
    size: SIZE,
    source: `one random buffer, handed to upload() as ${PIECE / 1024} KiB views`,
    store:
      'fs: fs store (fsync off) in a fresh temp dir per op, removed after the op (untimed); discard: chunk puts resolve at once (engine work only)',
    chunkSize: CHUNK,
    concurrency: NS.join(', '),
    reference: 'createHash("sha256") over the same bytes in 1 MiB updates, main thread',
  },
  cases: results,
  derived,
  notes: [],
  chart: {
    title: '3. Upload (MB/s ÷ single-core SHA-256 MB/s, higher is better)',
    unit: '× sha256 1 core',
    bars: results
      .filter((r) => r.params.variant !== 'sha256')
      .map((r) => ({ label: r.name, value: r.mbps! / ref.mbps!, group: `${r.params.variant} ${r.params.store ?? ''}` })),
    lines: [
      { label: 'target 0.8×', value: 0.8 },
      { label: 'with workers 1.3×', value: 1.3 },
    ],
  },
});
