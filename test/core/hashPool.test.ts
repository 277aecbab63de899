import { createHash } from 'node:crypto';
import { writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KiB, openStore } from '../../src/index.js';
import { configureHashPool, sha256HexPooled, usesHashPool } from '../../src/internal/hashPool.js';
import { bytes, collect, put, tempDir } from '../helpers/core.js';

const hex = (d: Uint8Array) => createHash('sha256').update(d).digest('hex');

// The pool is opt-in (CHUNKSTREAM_HASH_THREADS); this file turns it on for itself.
describe('hash pool (opt-in worker threads)', () => {
  beforeAll(() => configureHashPool({ threads: 2, minBytes: 1024 }));
  afterAll(() => configureHashPool({ threads: 0 }));

  it('hashes like node:crypto; owned buffers move and come back, others stay intact', async () => {
    expect(usesHashPool(512)).toBe(false);
    expect(usesHashPool(64 * KiB)).toBe(true);
    const data = bytes(300_000, 3);
    const expected = hex(data);

    const borrowed = data.slice();
    const r1 = await sha256HexPooled(borrowed);
    expect(r1.hex).toBe(expected);
    expect(borrowed.byteLength).toBe(300_000); // the caller's bytes were copied, not moved
    expect(r1.data).toBe(borrowed);

    const owned = data.slice();
    const r2 = await sha256HexPooled(owned, { owned: true });
    expect(r2.hex).toBe(expected);
    expect(owned.byteLength).toBe(0); // transferred to the worker...
    expect(Buffer.from(r2.data).equals(Buffer.from(data))).toBe(true); // ...and back, unchanged

    const many = await Promise.all(Array.from({ length: 12 }, (_, i) => sha256HexPooled(bytes(100_000 + i, i + 1))));
    many.forEach((r, i) => expect(r.hex).toBe(hex(bytes(100_000 + i, i + 1))));
  });

  it('the engine round-trips and still refuses a corrupted chunk with the pool on', async () => {
    const dir = await tempDir();
    const chunkSize = 64 * KiB;
    const store = openStore({ dir, chunkSize, uploadConcurrency: 4, downloadConcurrency: 4 });
    const data = Buffer.from(bytes(9 * chunkSize + 5, 8));
    const file = await put(store, data);
    expect(file.sha256).toBe(hex(data));
    expect((await collect(store.download(file.id))).equals(data)).toBe(true);

    const m = await store.manifest(file.id);
    const key = m.chunks[4]!.key;
    const p = path.join(dir, 'chunks', key.slice(0, 2), key.slice(2, 4), key);
    const stored = await readFile(p);
    stored[7] ^= 0xff;
    await writeFile(p, stored);
    await expect(collect(store.download(file.id))).rejects.toMatchObject({ code: 'integrity', index: 4 });
    await store.close();
  });
});
