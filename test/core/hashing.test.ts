import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KiB, createFsStore, createMemoryStore, openStore, type ChunkStore } from '../../src/index.js';
import { chunkKey } from '../../src/catalog/catalog.js';
import hashTask from '../../src/internal/hash-task.js';
import { configureHashing, digest, hashingConfig, streamHash } from '../../src/internal/hashing.js';
import { Slab } from '../../src/internal/slabs.js';
import { startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { bytes, collect, put, tempDir } from '../helpers/core.js';

const hex = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

describe('hash threads', () => {
  const before = hashingConfig();
  beforeAll(() => configureHashing({ threads: 2, minBytes: 1024 }));
  afterAll(() => configureHashing(before));

  it('digests slab views on the threads, other memory inline, all like node:crypto', async () => {
    const data = bytes(300_000, 3);
    const slab = new Slab(300_000);
    slab.data(300_000).set(data);
    expect(await digest(slab.data(300_000))).toBe(hex(data));
    expect(await digest(slab.data(200_000, 1000))).toBe(hex(data.subarray(1000, 200_000)));
    expect(await digest(data)).toBe(hex(data)); // not shared memory: inline
    expect(await digest(slab.data(100))).toBe(hex(data.subarray(0, 100))); // below minBytes: inline
    const many = await Promise.all(Array.from({ length: 24 }, (_, i) => digest(slab.data(100_000 + i * 999))));
    many.forEach((d, i) => expect(d).toBe(hex(data.subarray(0, 100_000 + i * 999))));
  });

  it('whole-file hashes see their updates in order, many streams at once, on their own threads', async () => {
    const parts = Array.from({ length: 12 }, (_, i) => bytes(50_000 + i, i + 7));
    const slabs = parts.map((p) => {
      const s = new Slab(p.byteLength);
      s.data(p.byteLength).set(p);
      return s.data(p.byteLength);
    });
    const streams = Array.from({ length: 5 }, () => streamHash());
    // Interleaved, not awaited one by one: order is the threads' business.
    const updates = streams.flatMap((s) => slabs.map((v) => s.update(v)));
    await Promise.all(updates);
    const expected = hex(Buffer.concat(parts));
    expect(await Promise.all(streams.map((s) => s.digest()))).toEqual(streams.map(() => expected));
    const dropped = streamHash();
    await dropped.update(slabs[0]!);
    dropped.drop(); // its state on the thread is released; nothing else changes
    expect(await streamHash().digest()).toBe(hex(new Uint8Array(0)));
  });

  it('a lost or reordered update fails the stream instead of giving a wrong digest', () => {
    const buf = new SharedArrayBuffer(8);
    expect(hashTask({ op: 'update', id: 'x1', seq: 0, buf, off: 0, len: 8 })).toBeNull();
    expect(() => hashTask({ op: 'update', id: 'x1', seq: 2, buf, off: 0, len: 8 })).toThrow(/out of order/);
    expect(() => hashTask({ op: 'update', id: 'x2', seq: 1, buf, off: 0, len: 8 })).toThrow(/out of order/); // a thread that lost its state
    expect(() => hashTask({ op: 'final', id: 'x1', seq: 3 })).toThrow(/final after 1 updates, expected 3/);
  });

  it('threads: 0 hashes inline, with the same results', async () => {
    configureHashing({ threads: 0 });
    try {
      const slab = new Slab(4096);
      slab.data(4096).set(bytes(4096, 2));
      expect(await digest(slab.data(4096))).toBe(hex(bytes(4096, 2)));
      const s = streamHash();
      await s.update(slab.data(4096));
      expect(await s.digest()).toBe(hex(bytes(4096, 2)));
    } finally {
      configureHashing({ threads: 2, minBytes: 1024 });
    }
  });
});

/**
 * The engine with hash threads on, over every backend: chunks read into reused slabs and
 * verified in place. A backend that handed out its own stored buffer (the memory store once
 * did: Buffer.prototype.slice is a view) would see it overwritten by the next read into the slab.
 */
describe('engine with hash threads, every backend', () => {
  let s3: S3rverHandle;
  const before = hashingConfig();
  beforeAll(async () => {
    configureHashing({ threads: 2, minBytes: 1024 });
    s3 = await startS3rver();
  });
  afterAll(async () => {
    configureHashing(before);
    await s3?.close();
  });
  const chunkSize = 64 * KiB;
  const backends: [string, () => Promise<{ store: ChunkStore; corrupt: (key: string) => Promise<void> }>][] = [
    [
      'memory',
      async () => {
        const store = createMemoryStore();
        return { store, corrupt: async (key) => void (await store.put(chunkKey(key), bytes(chunkSize, 99))) };
      },
    ],
    [
      'fs',
      async () => {
        const dir = await tempDir();
        const file = (key: string) => path.join(dir, 'chunks', key.slice(0, 2), key.slice(2, 4), key);
        return {
          store: createFsStore(dir),
          corrupt: async (key) => {
            const b = await readFile(file(key));
            b[7]! ^= 0xff;
            await writeFile(file(key), b);
          },
        };
      },
    ],
    [
      's3',
      async () => {
        const store = s3.store({ prefix: `hashing/${Date.now()}` });
        return { store, corrupt: async (key) => void (await store.put(chunkKey(key), bytes(chunkSize, 98))) };
      },
    ],
  ];
  for (const [name, make] of backends) {
    it(`${name}: downloads stay byte-exact however often they run, and a corrupted chunk is refused`, async () => {
      const { store: chunkStore, corrupt } = await make();
      const store = openStore({ chunkStore, chunkSize, uploadConcurrency: 4, downloadConcurrency: 4 });
      const data = Buffer.from(bytes(9 * chunkSize + 5, 8));
      const file = await put(store, data);
      expect(file.sha256).toBe(hex(data));
      for (let i = 0; i < 3; i++) expect((await collect(store.download(file.id))).equals(data)).toBe(true);
      // Lent buffers, taken synchronously (copied in `next`), are right too.
      const plan = await store.plan(file.id);
      let lentBytes = 0;
      let lentOk = true;
      const all = await new Promise<Buffer>((resolve, reject) => {
        const parts: Buffer[] = [];
        store.read(plan, { lend: true }).subscribe({
          next: (c) => {
            const expected = data.subarray(lentBytes, lentBytes + c.byteLength);
            if (!Buffer.from(c).equals(expected)) lentOk = false;
            parts.push(Buffer.from(c));
            lentBytes += c.byteLength;
          },
          error: reject,
          complete: () => resolve(Buffer.concat(parts)),
        });
      });
      expect(lentOk).toBe(true);
      expect(all.equals(data)).toBe(true);

      const m = await store.manifest(file.id);
      await corrupt(m.chunks[4]!.key);
      // What is delivered before the error is a correct prefix, never the bad chunk.
      const got: Buffer[] = [];
      const err = await new Promise((resolve) =>
        store.download(file.id).subscribe({ next: (c) => got.push(Buffer.from(c)), error: resolve }),
      );
      expect(err).toMatchObject({ code: 'integrity', index: 4 });
      const prefix = Buffer.concat(got);
      expect(prefix.length).toBeLessThanOrEqual(4 * chunkSize);
      expect(prefix.equals(data.subarray(0, prefix.length))).toBe(true);
      await store.close();
      await chunkStore.close?.();
    });
  }
});
