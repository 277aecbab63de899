/**
 * The chunk cache's policy, measured: one large scan while many small hot files are read.
 *
 * A fs store (page cache) with 1 MiB chunks holds 32 hot files of 512 KiB and one scan file
 * several times the cache's size. Each policy (no cache, LRU, S3-FIFO) gets a store of its own on
 * the same files, its hot set read twice (warm), then the scan runs while a loop reads random hot
 * files until the scan ends; afterwards the hot set is read once more. Reported per policy
 * (medians of interleaved rounds): the hot reads' hit ratio during the scan and after it, hot
 * reads/s, the scan's time among them, and the scan's time alone into an empty cache (what
 * the policy costs a cold reader: every chunk a miss, copied into the cache or not). Readers are read-only
 * lenders, as the HTTP gateway is.
 */
import { createFsStore, openStore, type Manifest, type Store } from '../src/index.js';
import { cacheSettings, type CachePolicy } from '../src/internal/chunk-cache.js';
import { QUICK, MiB, KiB, caseResult, median, startSuite, type CaseResult } from './lib/harness.js';
import { drain, putFile, randomBuffer, tempDir } from './lib/fixtures.js';

const run = startSuite('cache', 'Chunk cache policy: one scan among hot files');
const CHUNK = MiB;
const HOT_FILES = 32;
const HOT_SIZE = 512 * KiB;
const CACHE = 48 * MiB;
const SCAN = (QUICK ? 128 : 384) * MiB;
const ROUNDS = QUICK ? 3 : 7;
const POLICIES: (CachePolicy | 'none')[] = ['none', 'lru', 's3fifo'];

const dir = tempDir('cache');
const gets = new Map<string, number>();
function countedStore(cacheBytes: number): Store {
  const fs = createFsStore(dir, { fsync: false });
  const get = fs.get.bind(fs);
  fs.get = (key, o) => (gets.set(key, (gets.get(key) ?? 0) + 1), get(key, o));
  return openStore({ chunkStore: fs, chunkSize: CHUNK, fsync: false, cacheBytes });
}

const setup = countedStore(0);
const hot: Manifest[] = [];
for (let i = 0; i < HOT_FILES; i++) hot.push(await putFile(setup, randomBuffer(HOT_SIZE), `hot${i}`));
const scan = await putFile(setup, randomBuffer(SCAN), 'scan');
await setup.close();
const hotKeys = hot.map((m) => `chunks/${m.chunks[0]!.key.slice(0, 2)}/${m.chunks[0]!.key.slice(2, 4)}/${m.chunks[0]!.key}`);
const hotGets = () => hotKeys.reduce((n, k) => n + (gets.get(k) ?? 0), 0);
const read = (store: Store, id: string) => drain(store.download(id, { lend: true, readOnly: true }));

interface Sample {
  /** The scan alone into an empty cache: what the policy costs a cold reader (every chunk a miss). */
  coldScanMs: number;
  scanMs: number;
  hotReads: number;
  hotHitDuring: number;
  hotHitAfter: number;
  hotPerSec: number;
}
const samples = new Map<string, Sample[]>(POLICIES.map((p) => [p, []]));

async function once(policy: CachePolicy | 'none'): Promise<Sample> {
  if (policy !== 'none') cacheSettings.policy = policy;
  const cold = countedStore(policy === 'none' ? 0 : CACHE);
  const c0 = performance.now();
  await read(cold, scan.id);
  const coldScanMs = performance.now() - c0;
  await cold.close();
  const store = countedStore(policy === 'none' ? 0 : CACHE);
  for (let i = 0; i < 2; i++) for (const m of hot) await read(store, m.id);
  let done = false;
  let reads = 0;
  let seed = 1;
  const g0 = hotGets();
  const t0 = performance.now();
  const loop = (async () => {
    while (!done) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      await read(store, hot[(seed >>> 8) % HOT_FILES]!.id);
      reads++;
    }
  })();
  await read(store, scan.id);
  const scanMs = performance.now() - t0;
  done = true;
  await loop;
  const during = hotGets() - g0;
  const g1 = hotGets();
  for (const m of hot) await read(store, m.id);
  const after = hotGets() - g1;
  await store.close();
  cacheSettings.policy = 's3fifo';
  return {
    coldScanMs,
    scanMs,
    hotReads: reads,
    hotHitDuring: 1 - during / reads,
    hotHitAfter: 1 - after / HOT_FILES,
    hotPerSec: reads / (scanMs / 1000),
  };
}

await read(countedStore(0), scan.id); // page cache warm for every policy
for (let r = 0; r < ROUNDS; r++) {
  // Rotated: no policy always runs first or last.
  for (let k = 0; k < POLICIES.length; k++) {
    const p = POLICIES[(r + k) % POLICIES.length]!;
    const s = await once(p);
    samples.get(p)!.push(s);
    console.log(
      `  ${p} round ${r + 1}: cold scan ${s.coldScanMs.toFixed(0)} ms; scan ${s.scanMs.toFixed(0)} ms, ${s.hotReads} hot reads (${s.hotPerSec.toFixed(0)}/s), hot hits during ${(s.hotHitDuring * 100).toFixed(0)} %, after ${(s.hotHitAfter * 100).toFixed(0)} %`,
    );
  }
}

const cases: CaseResult[] = [];
const derived: Record<string, unknown>[] = [];
const noneScan = median(samples.get('none')!.map((s) => s.scanMs));
const noneCold = median(samples.get('none')!.map((s) => s.coldScanMs));
for (const p of POLICIES) {
  const xs = samples.get(p)!;
  const scanMs = xs.map((s) => s.scanMs);
  cases.push(
    caseResult({ name: `scan ${SCAN / MiB} MiB among hot reads, cache ${p}`, params: { policy: p }, bytes: SCAN }, scanMs, 1, () => ({
      ops: 0,
      margin: 0,
      samples: xs.length,
    })),
  );
  derived.push({
    policy: p,
    hotHitDuringScan: median(xs.map((s) => s.hotHitDuring)),
    hotHitAfterScan: median(xs.map((s) => s.hotHitAfter)),
    hotReadsPerSec: median(xs.map((s) => s.hotPerSec)),
    coldScanMs: median(xs.map((s) => s.coldScanMs)),
    coldScanVsNoCache: median(xs.map((s) => s.coldScanMs)) / noneCold,
    scanMs: median(scanMs),
    scanVsNoCache: median(scanMs) / noneScan,
  });
}

run.finish({
  setup: {
    store: 'fs (fsync off), page cache warm, 1 MiB chunks; readers lend read-only (as the HTTP gateway)',
    hot: `${HOT_FILES} files × ${HOT_SIZE / KiB} KiB, each read twice before the scan`,
    scan: `${SCAN / MiB} MiB, once per round, while a loop reads random hot files`,
    cache: `${CACHE / MiB} MiB`,
    rounds: ROUNDS,
  },
  cases,
  derived,
  notes: ['hot hits: share of hot-file reads that read nothing from the store (during the scan; and reading each hot file once after it)'],
  chart: {
    title: 'Chunk cache: hot reads served from memory during a scan (%)',
    unit: '% hits',
    bars: derived.map((d) => ({ label: String(d.policy), value: Number(d.hotHitDuringScan) * 100 })),
  },
});
