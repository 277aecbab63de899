import { open, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { KiB, createFsStore, openStore, type ChunkStore, type UploadEvent } from '../../src/index.js';
import { bytes, collect, tempDir, wrapStore, uploadCutAfter } from '../helpers/core.js';

const chunkSize = 64 * KiB;

async function events(store: ReturnType<typeof openStore>, ...args: Parameters<ReturnType<typeof openStore>['upload']>) {
  return lastValueFrom(store.upload(...args).pipe(toArray()));
}
const last = (e: UploadEvent[]) => e.at(-1)!;

/** Counts chunk reads (gets under chunks/), the cost of a resume. */
function counting(inner: ChunkStore) {
  const reads = { chunks: 0 };
  const store = wrapStore(inner, (op, key) => {
    if (op === 'get' && key.startsWith('chunks/')) reads.chunks++;
  });
  return { store, reads };
}

describe('upload segments (segment: true, as tus PATCHes)', () => {
  const data = Buffer.from(bytes(5 * chunkSize + 1234, 3));
  const cuts = [chunkSize + 100, 3 * chunkSize - 7, data.length]; // mid-chunk, mid-chunk, end

  it('pauses at exact byte offsets, keeps the tail durable across a restart, and commits at the declared size', async () => {
    const dir = await tempDir();
    let store = openStore({ dir, chunkSize });
    const first = await events(store, data.subarray(0, cuts[0]), { name: 'seg.bin', segment: true, expectedSize: data.length });
    const paused = last(first);
    expect(paused).toMatchObject({ type: 'paused', offset: cuts[0] });
    const uploadId = (first[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    expect(await store.uploadStatus(uploadId)).toMatchObject({ offset: cuts[0], length: data.length });
    await store.close();

    // A new process on the same directory: the tail of the first segment survived.
    store = openStore({ dir, chunkSize });
    expect((await store.uploadStatus(uploadId)).offset).toBe(cuts[0]);
    const second = await events(store, data.subarray(cuts[0], cuts[1]), { uploadId, segment: true });
    expect(second[0]).toMatchObject({ type: 'started', offset: cuts[0] });
    expect(last(second)).toMatchObject({ type: 'paused', offset: cuts[1] });
    expect(await store.gc({ graceMs: 0 })).toMatchObject({ removedChunks: 1 }); // the first tail only: the session names the new one
    const third = await events(store, data.subarray(cuts[1]), { uploadId, segment: true });
    const done = last(third);
    if (done.type !== 'committed') throw new Error(`ended with ${done.type}`);
    expect(done.file.size).toBe(data.length);
    expect((await collect(store.download(done.file.id))).equals(data)).toBe(true);
    expect((await store.verify(done.file.id)).problems).toEqual([]);
    await store.close();
  });

  it('a segment goes on hashing where the last one stopped instead of re-reading the file so far', async () => {
    const dir = await tempDir();
    const { store: counted, reads } = counting(createFsStore(dir));
    const store = openStore({ chunkStore: counted, chunkSize });
    const first = await events(store, data.subarray(0, cuts[1]), { name: 'h.bin', segment: true, expectedSize: data.length });
    const uploadId = (first[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    reads.chunks = 0;
    await events(store, data.subarray(cuts[1], cuts[1]! + 10), { uploadId, segment: true });
    expect(reads.chunks).toBe(1); // only the tail, read back into the chunk it continues
    // Another store (another gateway, a restart) has no parked hash: it re-reads the 3 stored chunks and the tail, once.
    const { store: counted2, reads: reads2 } = counting(createFsStore(dir));
    const other = openStore({ chunkStore: counted2, chunkSize });
    const rest = await events(other, data.subarray(cuts[1]! + 10), { uploadId, segment: true });
    expect(reads2.chunks).toBe(4);
    const done = last(rest);
    if (done.type !== 'committed') throw new Error(`ended with ${done.type}`);
    expect((await collect(other.download(done.file.id))).equals(data)).toBe(true);
    await store.close();
    await other.close();
  });

  it('without a declared size every segment pauses; the one that declares it commits', async () => {
    const store = openStore({ dir: await tempDir(), chunkSize });
    const a = await events(store, data.subarray(0, 10), { name: 'deferred.bin', segment: true });
    const uploadId = (a[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    expect(last(a)).toMatchObject({ type: 'paused', offset: 10 });
    expect(last(await events(store, data.subarray(10, cuts[1]), { uploadId, segment: true }))).toMatchObject({ offset: cuts[1] });
    expect(last(await events(store, new Uint8Array(0), { uploadId, segment: true }))).toMatchObject({ type: 'paused', offset: cuts[1] });
    const done = last(await events(store, data.subarray(cuts[1]), { uploadId, segment: true, expectedSize: data.length }));
    if (done.type !== 'committed') throw new Error(`ended with ${done.type}`);
    expect(done.file.sha256).toBe((await store.stat(done.file.id)).sha256);
    expect((await collect(store.download(done.file.id))).equals(data)).toBe(true);
    // A declared size cannot change, and more bytes than declared are refused.
    const b = await events(store, data.subarray(0, 5), { name: 'fixed.bin', segment: true, expectedSize: 100 });
    const id2 = (b[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    await expect(events(store, data.subarray(5, 10), { uploadId: id2, segment: true, expectedSize: 101 })).rejects.toMatchObject({
      code: 'bad_request',
      field: 'size',
    });
    await expect(events(store, data.subarray(5, 200), { uploadId: id2, segment: true })).rejects.toMatchObject({
      code: 'bad_request',
      field: 'size',
    });
    expect((await store.uploadStatus(id2)).offset).toBe(5); // nothing of the refused segment counts
    await store.close();
  });

  it('a segment whose source fails pauses with what arrived, durable', async () => {
    const store = openStore({ dir: await tempDir(), chunkSize });
    async function* dropped() {
      yield data.subarray(0, chunkSize + 5000);
      throw new Error('connection reset by peer');
    }
    const e = await events(store, dropped(), { name: 'cut.bin', segment: true, expectedSize: data.length });
    expect(last(e)).toMatchObject({ type: 'paused', offset: chunkSize + 5000, interrupted: true });
    const uploadId = (e[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    const done = last(await events(store, data.subarray(chunkSize + 5000), { uploadId, segment: true }));
    if (done.type !== 'committed') throw new Error(`ended with ${done.type}`);
    expect((await collect(store.download(done.file.id))).equals(data)).toBe(true);
    await store.close();
  });
});

describe('file handle sources', () => {
  it('a FileHandle is read in place, and a resume reads it from the upload’s offset', async () => {
    const dir = await tempDir();
    const data = Buffer.from(bytes(7 * chunkSize + 99, 4));
    const file = path.join(dir, 'src.bin');
    await writeFile(file, data);
    const store = openStore({ dir: path.join(dir, 'store'), chunkSize });
    const handle = await open(file);
    try {
      const done = last(await events(store, handle, { name: 'fh.bin' }));
      if (done.type !== 'committed') throw new Error(`ended with ${done.type}`);
      expect((await collect(store.download(done.file.id))).equals(data)).toBe(true);
      // Cut after 3 chunks, then resumed from the same handle: it starts at the offset by itself.
      const uploadId = await uploadCutAfter(store, handle, 'cut.bin', 3);
      const { offset } = await store.uploadStatus(uploadId);
      expect(offset).toBeGreaterThanOrEqual(3 * chunkSize);
      const resumed = await events(store, handle, { uploadId });
      expect(resumed[0]).toMatchObject({ type: 'started', offset });
      const again = last(resumed);
      if (again.type !== 'committed') throw new Error(`ended with ${again.type}`);
      expect(again.file.sha256).toBe(done.file.sha256);
    } finally {
      await handle.close();
      await store.close();
    }
  });
});
