/**
 * The name space: does a page cost O(page)? The first page (1,000 names) and a folder page
 * (delimiter '/') of `store.list`, on 1,000 and on 100,000 names, median of repeated runs, and
 * their ratio (≈ 1× when a page does not grow with the store). fs (LMDB) and memory.
 *
 *   npx tsx bench/names.bench.ts [--names=100000]
 *
 * The index is filled directly (one LMDB transaction; the memory index by swaps): the engine's
 * uploads are not what is measured here. Not in `npm run bench`'s suites yet.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { open } from 'lmdb';
import { createFsStore, createMemoryStore, openStore, type ChunkStore, type Store } from '../src/index.js';

const LARGE = Number(process.argv.find((a) => a.startsWith('--names='))?.slice('--names='.length) ?? 100_000);
const SMALL = 1_000;
const RUNS = 30;

const nameOf = (i: number) => `d${i % 10}/s${i % 7}/file-${i}.txt`;
const info = (i: number) =>
  JSON.stringify({
    id: `${String(i).padStart(9, '0')}${'0'.repeat(20)}`,
    name: nameOf(i),
    size: i,
    sha256: '0'.repeat(64),
    chunkSize: 65536,
    chunkCount: 1,
    created: new Date(0).toISOString(),
  });

async function fsStore(n: number): Promise<{ store: Store; chunkStore: ChunkStore; cleanup: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'chunkstream-names-bench-'));
  const db = open<string, Buffer>({
    path: path.join(dir, 'index', 'names.mdb'),
    keyEncoding: 'binary',
    encoding: 'string',
    noSubdir: true,
  });
  await db.transaction(() => {
    for (let i = 0; i < n; i++) void db.put(Buffer.from(nameOf(i)), info(i));
  });
  await db.close();
  const chunkStore = createFsStore(dir, { fsync: false });
  return { store: openStore({ chunkStore }), chunkStore, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function memoryStore(n: number): Promise<{ store: Store; chunkStore: ChunkStore; cleanup: () => void }> {
  const chunkStore = createMemoryStore();
  for (let i = 0; i < n; i++) await chunkStore.names!.swap(nameOf(i), info(i), undefined);
  return { store: openStore({ chunkStore }), chunkStore, cleanup: () => undefined };
}

async function median(fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

async function measure(make: (n: number) => Promise<{ store: Store; chunkStore: ChunkStore; cleanup: () => void }>, n: number) {
  const { store, chunkStore, cleanup } = await make(n);
  await store.migrateNames(); // no manifests: only writes the marker
  const first = await median(() => store.list({ limit: 1000 }));
  const folder = await median(() => store.list({ prefix: 'd5/', delimiter: '/' }));
  const deep = await median(() => store.list({ prefix: 'd5/s3/', limit: 10 })); // a page both sizes fill
  const lookup = await median(() => store.lookup(nameOf(Math.floor(n / 2))));
  await store.close();
  await chunkStore.close?.();
  cleanup();
  return { first, folder, deep, lookup };
}

const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
for (const [backend, make] of [
  ['fs (LMDB)', fsStore],
  ['memory', memoryStore],
] as const) {
  const small = await measure(make, SMALL);
  const large = await measure(make, LARGE);
  console.log(`\n${backend}: ${SMALL.toLocaleString()} vs ${LARGE.toLocaleString()} names (median of ${RUNS})`);
  for (const k of ['first', 'folder', 'deep', 'lookup'] as const) {
    console.log(
      `  ${k.padEnd(7)} ${fmt(small[k]).padStart(10)}  ${fmt(large[k]).padStart(10)}  ratio ${(large[k] / small[k]).toFixed(2)}×`,
    );
  }
}
