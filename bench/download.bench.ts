/**
 * Scenario 1 — ordered retrieve from the page cache.
 * 12 chunks × 64 KiB and 12 chunks × 10 MiB (chunkSize = that size), download concurrency 1, 5, 10:
 * MB/s, and memory per op (see measureAlloc). Reference cases in the same run: the same 12 chunk
 * files read with fs.readFile + SHA-256 one after another (no engine), and readFile alone.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { QUICK, KiB, MiB, defaultOptions, measureAlloc, runCases, startSuite, type BenchCase } from './lib/harness.js';
import { benchStore, drain, expectBytes, putFile, randomBuffer } from './lib/fixtures.js';
import { restoreDefault, variants } from './lib/variants.js';

const run = startSuite('download', 'Ordered retrieve, page cache (scenario 1)');
const CHUNKS = 12;
const SIZES = [64 * KiB, 10 * MiB];
const NS = [1, 5, 10];

const cases: BenchCase[] = [];
const allocOps: { name: string; op: (probe: () => void) => Promise<void> }[] = [];
const stores: { close: () => Promise<void> }[] = [];
const engineVariants = await variants();

for (const chunkSize of SIZES) {
  const label = chunkSize >= MiB ? `${chunkSize / MiB} MiB` : `${chunkSize / KiB} KiB`;
  const { store, dir } = benchStore(`dl${chunkSize}`, { chunkSize });
  stores.push(store);
  const total = CHUNKS * chunkSize;
  const m = await putFile(store, randomBuffer(total));
  const files = m.chunks.map((c) => path.join(dir, 'chunks', c.key.slice(0, 2), c.key.slice(2, 4), c.key));
  const opts = defaultOptions(chunkSize >= MiB ? 'large' : 'small');
  const big = chunkSize >= MiB;
  if (big && !QUICK) opts.minSamples = 10;

  // 64 KiB chunks are below the pool's threshold (hashed inline either way): one variant.
  for (const v of big ? engineVariants : engineVariants.slice(0, 1)) {
    for (const n of NS) {
      const op = async (probe?: () => void) => {
        v.enable();
        expectBytes(await drain(store.downloadManifest(m, { concurrency: n, lend: v.lend }), probe), total, 'download');
      };
      const name = `${big ? v.name : 'engine'} ${CHUNKS}×${label} N=${n}`;
      cases.push({ name, fn: () => op(), bytes: total, params: { chunkSize, n, variant: big ? v.name : 'engine' }, options: opts });
      allocOps.push({ name, op });
    }
  }
  const raw = async (hash: boolean, probe?: () => void) => {
    for (const [i, f] of files.entries()) {
      const data = await readFile(f);
      if (hash && createHash('sha256').update(data).digest('hex') !== m.chunks[i]!.key) throw new Error('bad chunk');
      probe?.();
    }
  };
  const refName = `readFile+sha256 ${CHUNKS}×${label} sequential`;
  cases.push({ name: refName, fn: () => raw(true), bytes: total, params: { chunkSize, n: 1, variant: 'readFile+sha256' }, options: opts });
  allocOps.push({ name: refName, op: (p) => raw(true, p) });
  cases.push({
    name: `readFile ${CHUNKS}×${label} sequential`,
    fn: () => raw(false),
    bytes: total,
    params: { chunkSize, n: 1, variant: 'readFile' },
    options: opts,
  });
}

const results = await runCases('download', cases);
for (const { name, op } of allocOps) {
  const r = results.find((x) => x.name === name)!;
  r.alloc = await measureAlloc(op);
}
for (const s of stores) await s.close();
restoreDefault();

const derived = SIZES.flatMap((chunkSize) => {
  const ref = results.find((r) => r.params.chunkSize === chunkSize && r.params.variant === 'readFile+sha256')!;
  return results
    .filter((r) => r.params.chunkSize === chunkSize && r.params.n !== undefined && !String(r.params.variant).startsWith('readFile'))
    .map((r) => ({
      chunkSize,
      variant: r.params.variant,
      n: r.params.n,
      mbps: r.mbps,
      vsReadFileSha256: r.mbps! / ref.mbps!,
      allocRetainedPerOp: r.alloc?.retainedDelta,
      allocPeakPerOp: r.alloc?.peakAbove,
      gcsPerOp: r.alloc?.gcs,
      goReferenceMbps: chunkSize === 10 * MiB ? ({ 1: 511, 5: 496 } as Record<number, number>)[r.params.n as number] : undefined,
    }));
});

run.finish({
  setup: {
    store: 'fs (fsync off), files just written so they are in the page cache',
    chunks: CHUNKS,
    chunkSizes: SIZES.join(', '),
    concurrency: NS.join(', '),
    memory:
      'process.memoryUsage(): heapUsed + arrayBuffers; retained = end − start after a forced GC; peak = max at each delivered chunk − start',
  },
  cases: results,
  derived,
  notes: ['Go reference (same shape, another implementation): 12 × 10 MiB, N=1 511 MB/s, N=5 496 MB/s.'],
  chart: {
    title: '1. Ordered retrieve from page cache (MB/s, higher is better)',
    unit: 'MB/s',
    bars: results
      .filter((r) => r.params.variant !== 'readFile')
      .map((r) => ({ label: r.name.replace(' sequential', ''), value: r.mbps!, group: String(r.params.variant) })),
    lines: [{ label: 'Go ref 12×10 MiB N=1: 511', value: 511 }],
  },
});
