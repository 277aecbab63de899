import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { KiB, openStore, type ChunkStore, type Store, type UploadEvent } from '../../src/index.js';
import { createMemoryStore } from '../../src/storage/memory.js';
import { fakeClock } from '../helpers/clock.js';
import { bytes, listKeys, wrapStore } from '../helpers/core.js';

const chunkSize = 64 * KiB;

/** Uploads `data` and returns the upload id and the committed file. */
async function commit(store: Store, data: Uint8Array) {
  const events = await lastValueFrom(store.upload(data, { name: 'once.bin' }).pipe(toArray()));
  const [started, last] = [events[0], events.at(-1)];
  if (started?.type !== 'started' || last?.type !== 'committed') throw new Error('upload did not commit');
  return { uploadId: started.uploadId, file: last.file };
}

/** Resumes by id with a source that records whether it was ever asked for. */
async function resume(store: Store, uploadId: string, data: Uint8Array) {
  const asked: number[] = [];
  const events = await lastValueFrom(store.upload((offset) => (asked.push(offset), data.subarray(offset)), { uploadId }).pipe(toArray()));
  return { events, asked };
}

describe('resume of an upload that already committed', () => {
  it('reports the committed file without reading the source, and uploadStatus says so', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    const data = bytes(3 * chunkSize + 5, 3);
    const { uploadId, file } = await commit(store, data);

    const { events, asked } = await resume(store, uploadId, data);
    expect(asked).toEqual([]);
    expect(events).toEqual<UploadEvent[]>([
      { type: 'started', uploadId, offset: data.length, alreadyCommitted: true },
      { type: 'committed', file },
    ]);
    expect(await store.uploadStatus(uploadId)).toMatchObject({ uploadId, name: 'once.bin', offset: data.length, committed: file });
    expect((await store.list()).map((f) => f.id)).toEqual([file.id]); // stored once
  });

  it('refuses a resume that expects other bytes than the committed file', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    const data = bytes(chunkSize + 1, 4);
    const { uploadId } = await commit(store, data);
    await expect(lastValueFrom(store.upload(data, { uploadId, expectedSize: data.length + 1 }))).rejects.toMatchObject({
      code: 'bad_request',
    });
  });

  it('gc keeps the file whole while the marker exists; the marker does not keep a removed file’s chunks', async () => {
    const chunkStore = createMemoryStore();
    const store = openStore({ chunkStore, chunkSize });
    const data = bytes(4 * chunkSize + 9, 5);
    const { uploadId, file } = await commit(store, data);

    expect(await store.gc({ graceMs: 0 })).toMatchObject({ removedChunks: 0, expiredUploads: 0 });
    expect(await listKeys(chunkStore, 'chunks/')).toHaveLength(file.chunkCount);
    expect((await store.verify(file.id)).problems).toEqual([]);

    await store.remove(file.id);
    expect(await chunkStore.has(`committed/${uploadId}.json`)).toBe(true); // the marker is still there…
    expect(await store.gc({ graceMs: 0 })).toMatchObject({ removedChunks: file.chunkCount }); // …and protects nothing
    expect(await listKeys(chunkStore, 'chunks/')).toEqual([]);
  });

  it('after the file was removed, a resume fails with not_found saying so', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    const data = bytes(chunkSize, 6);
    const { uploadId, file } = await commit(store, data);
    await store.remove(file.id);
    const err = await lastValueFrom(store.upload(data, { uploadId })).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'not_found',
      message: expect.stringContaining(`committed as file ${file.id}, which has since been removed`),
    });
    await expect(store.uploadStatus(uploadId)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('abortUpload deletes only the marker: the file stays', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    const { uploadId, file } = await commit(store, bytes(chunkSize, 7));
    await store.abortUpload(uploadId);
    await expect(store.uploadStatus(uploadId)).rejects.toMatchObject({ code: 'not_found' });
    expect((await store.list()).map((f) => f.id)).toEqual([file.id]);
  });

  it('gc deletes an expired marker, and the upload id is then unknown', async () => {
    const clock = fakeClock();
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize, uploadTtlMs: 1000, now: clock.now });
    const data = bytes(2 * chunkSize, 8);
    const { uploadId, file } = await commit(store, data);
    const { expires } = await store.uploadStatus(uploadId);
    expect(Date.parse(expires)).toBe(clock.now() + 1000); // a fresh TTL from the commit
    clock.advance(1000 - 1);
    expect(await store.gc({ graceMs: 0 })).toMatchObject({ expiredUploads: 0 });
    expect((await store.uploadStatus(uploadId)).committed).toEqual(file);
    clock.advance(1);
    expect(await store.gc({ graceMs: 0 })).toMatchObject({ expiredUploads: 1, removedChunks: 0 });
    await expect(store.uploadStatus(uploadId)).rejects.toMatchObject({ code: 'not_found' });
    await expect(lastValueFrom(store.upload(data, { uploadId }))).rejects.toMatchObject({ code: 'not_found' });
    expect((await store.verify(file.id)).problems).toEqual([]);
  });

  it('an upload cancelled while its manifest is written still finishes the commit: close waits for its marker', async () => {
    const inner = createMemoryStore();
    const controller = new AbortController();
    const chunkStore: ChunkStore = {
      ...inner,
      put: async (key, data, o) => {
        // A slow marker write: one more turn of the event loop than the calls around it.
        if (key.startsWith('committed/')) await new Promise((r) => setImmediate(r));
        const r = await inner.put(key, data, o);
        if (key.startsWith('files/')) controller.abort(); // durable, but the caller is gone
        return r;
      },
    };
    const store = openStore({ chunkStore, chunkSize });
    const data = bytes(2 * chunkSize + 3, 10);
    const events: UploadEvent[] = [];
    const err = await new Promise<unknown>((resolve) =>
      store
        .upload(data, { name: 'cut.bin', signal: controller.signal })
        .subscribe({ next: (e) => events.push(e), error: resolve, complete: () => resolve(undefined) }),
    );
    expect(err).toMatchObject({ code: 'aborted' });
    expect(events.some((e) => e.type === 'committed')).toBe(false);
    await store.close();
    const uploadId = (events[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    expect([await inner.has(`committed/${uploadId}.json`), await inner.has(`uploads/${uploadId}.json`)]).toEqual([true, false]);

    const again = openStore({ chunkStore: inner, chunkSize });
    const [file] = await again.list();
    expect((await again.uploadStatus(uploadId)).committed).toEqual(file);
    const { events: resumed, asked } = await resume(again, uploadId, data);
    expect(asked).toEqual([]);
    expect(resumed.at(-1)).toEqual({ type: 'committed', file });
  });

  it('a commit cut off before its marker is still found: by the file id its session reserved', async () => {
    // The marker write fails once: what a crash between the manifest and the marker leaves.
    let failed = false;
    const chunkStore = wrapStore(createMemoryStore(), (op, key) => {
      if (op === 'put' && key.startsWith('committed/') && !failed) throw ((failed = true), new Error('injected marker failure'));
    });
    const store = openStore({ chunkStore, chunkSize });
    const data = bytes(2 * chunkSize + 1, 9);
    const { uploadId, file } = await commit(store, data); // the marker is best effort: the file is committed
    expect(failed).toBe(true);
    expect((await store.uploadStatus(uploadId)).committed).toEqual(file);

    const { events, asked } = await resume(store, uploadId, data);
    expect(asked).toEqual([]);
    expect(events.at(-1)).toEqual({ type: 'committed', file });
    expect((await store.list()).map((f) => f.id)).toEqual([file.id]);
    // The resume finished the commit: the marker exists and the session is gone.
    expect([...(await listKeys(chunkStore, 'uploads/')), ...(await listKeys(chunkStore, 'committed/'))]).toEqual([
      `committed/${uploadId}.json`,
    ]);
  });
});
