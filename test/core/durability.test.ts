import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { KiB, createFsStore, openStore, type ChunkStore } from '../../src/index.js';
import { chunkKey } from '../../src/catalog/catalog.js';
import { SAVE_EVERY_CHUNKS } from '../../src/engine/upload-session.js';
import { bytes, tempDir, uploadCutAfter } from '../helpers/core.js';

const chunkSize = 64 * KiB;
const decoder = new TextDecoder();

/**
 * Wraps the fs store to watch the order of events: chunk puts are deferred, and whatever a
 * session save or a manifest names must have been flushed (made durable) before it is written.
 */
function watched(inner: ChunkStore) {
  const staged = new Set<string>();
  const durable = new Set<string>();
  const violations: string[] = [];
  let sessionSaves = 0;
  const check = (what: string, keys: string[]) => {
    for (const k of keys) if (!durable.has(chunkKey(k))) violations.push(`${what} names ${k.slice(0, 8)} before it is durable`);
  };
  const store: ChunkStore = {
    ...inner,
    async put(key, data, o) {
      if (key.startsWith('uploads/')) {
        sessionSaves++;
        const s = JSON.parse(decoder.decode(data)) as { chunks: { key: string }[]; tail?: { key: string } };
        check('a session save', [...s.chunks.map((c) => c.key), ...(s.tail ? [s.tail.key] : [])]);
      }
      if (key.startsWith('files/'))
        check(
          'the manifest',
          (JSON.parse(decoder.decode(data)) as { chunks: { key: string }[] }).chunks.map((c) => c.key),
        );
      const r = await inner.put(key, data, o);
      if (key.startsWith('chunks/')) (o?.defer && r.created ? staged : durable).add(key);
      return r;
    },
    async flush(keys, o) {
      await inner.flush!(keys, o);
      for (const k of keys) if (staged.delete(k)) durable.add(k);
    },
  };
  return { store, violations, staged, saves: () => sessionSaves };
}

describe('durability of uploads on the fs store', () => {
  it('chunks are deferred and flushed before any session save or manifest names them; progress is saved every few chunks', async () => {
    const w = watched(createFsStore(await tempDir()));
    const store = openStore({ chunkStore: w.store, chunkSize, uploadConcurrency: 4 });
    const chunks = 5 * SAVE_EVERY_CHUNKS + 3;
    const last = await lastValueFrom(store.upload(bytes(chunks * chunkSize + 11, 6), { name: 'd.bin' }));
    expect(last.type).toBe('committed');
    expect(w.violations).toEqual([]);
    expect(w.staged.size).toBe(0); // nothing left staged
    // One save to open the session, then one per SAVE_EVERY_CHUNKS (or per second on a slow machine), not one per chunk.
    expect(w.saves()).toBeGreaterThanOrEqual(2);
    expect(w.saves()).toBeLessThan(chunks);
    await store.close();
  });

  it('an interrupted upload records exactly what it flushed, and its resume commits the same bytes', async () => {
    const w = watched(createFsStore(await tempDir()));
    const store = openStore({ chunkStore: w.store, chunkSize, uploadConcurrency: 3 });
    const data = bytes(30 * chunkSize, 8);
    const uploadId = await uploadCutAfter(store, data, 'i.bin', 11);
    const { offset } = await store.uploadStatus(uploadId); // waits for the teardown's save
    expect(offset).toBeGreaterThanOrEqual(11 * chunkSize);
    const done = await lastValueFrom(store.upload((o) => data.subarray(o), { uploadId }));
    expect(done.type).toBe('committed');
    expect(w.violations).toEqual([]);
    await store.close();
  });
});
