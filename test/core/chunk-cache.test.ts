import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KiB, createDemand, createMemoryStore, openStore, type Store, type StoreObserver } from '../../src/index.js';
import { bytes, collect, put, tempDir, wrapStore } from '../helpers/core.js';

const chunkSize = 64 * KiB;
const chunkFile = (dir: string, key: string) => path.join(dir, 'chunks', key.slice(0, 2), key.slice(2, 4), key);

/** A memory store whose chunk reads are counted. */
function countedStore(cacheBytes: number, extra: Parameters<typeof openStore>[0] = {}) {
  const gets = { n: 0 };
  const chunkStore = wrapStore(createMemoryStore(), (op, key) => {
    if (op === 'get' && key.startsWith('chunks/')) gets.n++;
  });
  const store = openStore({ chunkStore, chunkSize, cacheBytes, downloadConcurrency: 3, ...extra });
  return { store, gets };
}

describe('the chunk cache (cacheBytes)', () => {
  it('a chunk read and verified once is served again without a store read; hits and misses are reported', async () => {
    const { store, gets } = countedStore(4 * 1024 * KiB);
    const events: boolean[] = [];
    const observer: StoreObserver = { chunkCache: (hit) => void events.push(hit) };
    store.observe(observer);
    const data = Buffer.from(bytes(10 * chunkSize + 123, 3));
    const f = await put(store, data);
    expect((await collect(store.download(f.id))).equals(data)).toBe(true);
    expect(gets.n).toBe(11);
    for (const lend of [false, true]) {
      expect(Buffer.concat(await collectLent(store, f.id, { lend, readOnly: lend })).equals(data)).toBe(true);
      expect(Buffer.concat(await collectLent(store, f.id, { lend })).equals(data)).toBe(true); // lent: copied into its own slab
    }
    const range = await collect(store.download(f.id, { range: { start: chunkSize - 5, end: 3 * chunkSize + 9 } }));
    expect(range.equals(data.subarray(chunkSize - 5, 3 * chunkSize + 10))).toBe(true);
    expect(gets.n).toBe(11); // every read after the first from memory
    expect(store.cache).toMatchObject({ misses: 11, hits: 4 * 11 + 4, entries: 11 });
    expect(events.filter((h) => !h)).toHaveLength(11);
    expect(events.filter((h) => h)).toHaveLength(48);
    expect(store.gauge.held).toBe(0);
    await store.close();
  });

  it('never serves the bytes of another key: many files, shared chunks, evictions, concurrent ranges', async () => {
    const { store } = countedStore(6 * chunkSize + 200); // a few chunks: most reads evict
    const shared = bytes(2 * chunkSize, 99);
    const files: { id: string; data: Buffer }[] = [];
    for (let i = 0; i < 8; i++) {
      // Files share whole chunks (same keys), differ elsewhere, and end in partial chunks of different sizes.
      const data = Buffer.concat([bytes(chunkSize, i + 1), shared, bytes(chunkSize * (i % 3) + 1000 * i + 1, i + 50)]);
      files.push({ id: (await put(store, data)).id, data });
    }
    let seed = 7;
    const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0), (seed >>> 8) % n);
    for (let round = 0; round < 6; round++) {
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          const f = files[rand(files.length)]!;
          const start = rand(f.data.length);
          const end = start + rand(f.data.length - start);
          const lend = rand(2) === 1;
          const got = Buffer.concat(await collectLent(store, f.id, { range: { start, end }, lend, readOnly: lend && rand(2) === 1 }));
          expect(got.equals(f.data.subarray(start, end + 1))).toBe(true);
        }),
      );
    }
    expect(store.cache.hits).toBeGreaterThan(0);
    expect(store.cache.evictions).toBeGreaterThan(0);
    expect(store.cache.bytes).toBeLessThanOrEqual(store.cache.limit);
    expect(store.gauge.held).toBe(0);
    await store.close();
  });

  it('a byte flipped on disk after caching: served right from the cache, caught by the next cold read', async () => {
    const dir = await tempDir('cache-flip');
    const store = openStore({ dir, chunkSize, cacheBytes: 1024 * KiB, fsync: false });
    const data = Buffer.from(bytes(4 * chunkSize, 11));
    const f = await put(store, data);
    const m = await store.manifest(f.id);
    expect((await collect(store.download(f.id))).equals(data)).toBe(true); // now cached
    const file = chunkFile(dir, m.chunks[1]!.key);
    const raw = await readFile(file);
    raw[100]! ^= 0xff;
    await writeFile(file, raw);
    expect((await collect(store.download(f.id))).equals(data)).toBe(true); // from memory: verified bytes, not the disk's
    // A cold reader (another process, or this one once the chunk left the cache) reads the disk and catches it.
    const cold = openStore({ dir, chunkSize, fsync: false });
    await expect(collect(cold.download(f.id))).rejects.toMatchObject({ code: 'integrity', index: 1 });
    await cold.close();
    expect((await collect(store.download(f.id))).equals(data)).toBe(true); // still the verified bytes here
    // verify() always reads the disk: it finds the chunk moved aside, and the cache lets go of it.
    expect((await store.verify(f.id)).problems.map((p) => p.code)).toEqual(['integrity']);
    await expect(collect(store.download(f.id))).rejects.toMatchObject({ code: 'integrity', index: 1 });
    await store.close();
  });

  it('verify() reads the disk, and a chunk it moves aside leaves the cache', async () => {
    const dir = await tempDir('cache-verify');
    const store = openStore({ dir, chunkSize, cacheBytes: 1024 * KiB, fsync: false });
    const data = Buffer.from(bytes(3 * chunkSize, 12));
    const f = await put(store, data);
    const m = await store.manifest(f.id);
    expect((await collect(store.download(f.id))).equals(data)).toBe(true);
    const file = chunkFile(dir, m.chunks[2]!.key);
    const raw = await readFile(file);
    raw[7]! ^= 1;
    await writeFile(file, raw);
    const report = await store.verify(f.id);
    expect(report.problems.map((p) => p.code)).toEqual(['integrity']);
    expect(store.cache.entries).toBe(2);
    await expect(collect(store.download(f.id))).rejects.toMatchObject({ code: 'integrity', index: 2 });
    await store.close();
  });

  it('chunks gc removes leave the cache', async () => {
    const { store } = countedStore(1024 * KiB);
    const f = await put(store, bytes(3 * chunkSize, 13));
    await collect(store.download(f.id));
    expect(store.cache.entries).toBe(3);
    await store.remove(f.id);
    const report = await store.gc({ graceMs: 0 });
    expect(report.removedChunks).toBe(3);
    expect(store.cache).toMatchObject({ entries: 0, bytes: 0 });
    await store.close();
  });

  it('a consumer writing into lent chunks cannot change what the cache serves next', async () => {
    const { store, gets } = countedStore(1024 * KiB);
    const data = Buffer.from(bytes(5 * chunkSize, 14));
    const f = await put(store, data);
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) =>
        store.download(f.id, { lend: true }).subscribe({ next: (c) => c.fill(0), error: reject, complete: resolve }),
      );
    }
    expect((await collect(store.download(f.id))).equals(data)).toBe(true);
    expect(gets.n).toBe(5);
    await store.close();
  });

  it('stays within its bound under a scan, and the scan does not flush the hot set', async () => {
    const limit = 16 * chunkSize + 16 * 65; // 16 chunks and their slabs' headroom and tail
    const { store, gets } = countedStore(limit);
    const hot: { id: string }[] = [];
    for (let i = 0; i < 6; i++) hot.push(await put(store, bytes(chunkSize / 2 + i, 200 + i), `hot${i}`));
    const big = await put(store, bytes(64 * chunkSize, 300), 'scan.bin');
    const readHot = async () => {
      for (const h of hot) await collect(store.download(h.id));
    };
    await readHot();
    await readHot(); // read twice: the hot set is in the main queue
    let peak = 0;
    await new Promise<void>((resolve, reject) =>
      store.download(big.id).subscribe({ next: () => void (peak = Math.max(peak, store.cache.bytes)), error: reject, complete: resolve }),
    );
    expect(peak).toBeLessThanOrEqual(limit);
    const before = gets.n;
    await readHot();
    expect(gets.n - before).toBe(0); // the 64-chunk scan went through the small queue only
    await store.close();
  });

  it('an eviction under load loses nothing: chunks lent by reference stay intact until let go', async () => {
    const { store } = countedStore(3 * chunkSize + 3 * 65);
    const files: { id: string; data: Buffer }[] = [];
    for (let i = 0; i < 4; i++) {
      const data = Buffer.from(bytes(6 * chunkSize, 400 + i));
      files.push({ id: (await put(store, data)).id, data });
    }
    // Warm: every chunk read once (most evicted again at once: the cache holds 3).
    for (const f of files) await collect(store.download(f.id));
    const held: { view: Uint8Array; copy: Buffer }[] = [];
    await Promise.all(
      [...files, ...files].map(
        (f) =>
          new Promise<void>((resolve, reject) => {
            const { demand$, request } = createDemand();
            let offset = 0;
            store.download(f.id, { lend: true, readOnly: true, demand: demand$ }).subscribe({
              next: (c) => {
                const expected = f.data.subarray(offset, offset + c.byteLength);
                offset += c.byteLength;
                const h = { view: c, copy: Buffer.from(expected) };
                held.push(h);
                // Held across turns while other transfers evict and insert chunks.
                setImmediate(() => {
                  if (!Buffer.from(h.view).equals(h.copy)) reject(new Error('a lent chunk changed before it was acknowledged'));
                  request(1);
                });
              },
              error: reject,
              complete: () => (offset === f.data.length ? resolve() : reject(new Error('short'))),
            });
            request(1);
          }),
      ),
    );
    expect(store.cache.evictions).toBeGreaterThan(0);
    expect(store.cache.bytes).toBeLessThanOrEqual(store.cache.limit);
    expect(store.gauge.held).toBe(0);
    await store.close();
  });
});

/** All chunks of a download, each copied at delivery (what a lent chunk held meanwhile does not matter). */
async function collectLent(store: Store, id: string, o: Parameters<Store['download']>[1]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await new Promise<void>((resolve, reject) =>
    store.download(id, o).subscribe({ next: (c) => void out.push(Buffer.from(c)), error: reject, complete: resolve }),
  );
  return out;
}
