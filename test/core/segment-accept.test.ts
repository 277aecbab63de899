import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ChecksumMismatchError, KiB, createFsStore, openStore, type UploadEvent } from '../../src/index.js';
import { bytes, collect, tempDir, wrapStore } from '../helpers/core.js';

const chunkSize = 64 * KiB;
const refuse = () => {
  throw new ChecksumMismatchError('sha256', 'refused by the test');
};

async function events(store: ReturnType<typeof openStore>, ...args: Parameters<ReturnType<typeof openStore>['upload']>) {
  return lastValueFrom(store.upload(...args).pipe(toArray()));
}

/** A store that counts session saves (puts under uploads/). */
async function counted() {
  const dir = await tempDir();
  const saves = { n: 0 };
  const chunkStore = wrapStore(createFsStore(dir), (op, key) => {
    if (op === 'put' && key.startsWith('uploads/')) saves.n++;
  });
  return { dir, saves, store: openStore({ chunkStore, chunkSize }) };
}

describe('all-or-nothing segments (segment: { accept }, a tus PATCH with Upload-Checksum)', () => {
  const data = Buffer.from(bytes(30 * chunkSize + 777, 9));
  const first = chunkSize + 123; // the first segment ends mid-chunk: a durable tail

  it('a refused segment of many chunks saves nothing while it runs and leaves the session as it was', async () => {
    const { store, saves } = await counted();
    const a = await events(store, data.subarray(0, first), { name: 'acc.bin', segment: true, expectedSize: data.length });
    const uploadId = (a[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    const before = await store.uploadStatus(uploadId);
    expect(before.offset).toBe(first);

    saves.n = 0;
    const big = data.subarray(first, first + 20 * chunkSize + 5); // far more than the 8 chunks between saves
    await expect(events(store, big, { uploadId, segment: { accept: refuse } })).rejects.toMatchObject({ code: 'checksum_mismatch' });
    expect(saves.n).toBe(1); // the open (a new expiry), at the old offset; nothing during or after the segment
    expect(await store.uploadStatus(uploadId)).toMatchObject({ offset: first, length: data.length });

    // An accepted segment is recorded whole; the refused bytes left no trace in the file hash.
    let asked = 0;
    const accept = () => void asked++;
    const b = await events(store, big, { uploadId, segment: { accept } });
    expect(asked).toBe(1);
    expect(b.at(-1)).toMatchObject({ type: 'paused', offset: first + big.length });
    const done = (await events(store, data.subarray(first + big.length), { uploadId, segment: true })).at(-1)!;
    if (done.type !== 'committed') throw new Error(`ended with ${done.type}`);
    expect((await collect(store.download(done.file.id))).equals(data)).toBe(true);
    expect((await store.verify(done.file.id)).problems).toEqual([]);
    await store.close();
  });

  it('the last segment refused is not committed; a failing source with accept keeps nothing of it', async () => {
    const { store } = await counted();
    const a = await events(store, data.subarray(0, first), { name: 'last.bin', segment: true, expectedSize: data.length });
    const uploadId = (a[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    await expect(events(store, data.subarray(first), { uploadId, segment: { accept: refuse } })).rejects.toMatchObject({
      code: 'checksum_mismatch',
    });
    expect(await store.uploadStatus(uploadId)).toMatchObject({ offset: first });
    expect(await store.list()).toEqual([]);

    // A dropped connection during an all-or-nothing segment: its checksum cannot hold, so it is refused.
    let complete = true;
    async function* dropped() {
      yield data.subarray(first, first + 3 * chunkSize);
      complete = false;
      throw new Error('connection reset by peer');
    }
    const accept = () => {
      if (!complete) refuse();
    };
    await expect(events(store, dropped(), { uploadId, segment: { accept } })).rejects.toMatchObject({ code: 'checksum_mismatch' });
    expect((await store.uploadStatus(uploadId)).offset).toBe(first);

    const done = (await events(store, data.subarray(first), { uploadId, segment: { accept: () => undefined } })).at(-1)!;
    if (done.type !== 'committed') throw new Error(`ended with ${done.type}`);
    expect((await collect(store.download(done.file.id))).equals(data)).toBe(true);
    await store.close();
  });

  it('type and metadata are kept with the session; the type reaches the manifest; old manifests stay valid', async () => {
    const { store } = await counted();
    const a = await events(store, new Uint8Array(0), {
      name: 'typed.png',
      segment: true,
      expectedSize: 3,
      type: 'image/png',
      metadata: 'filename dHlwZWQucG5n',
    });
    const uploadId = (a[0] as Extract<UploadEvent, { type: 'started' }>).uploadId;
    expect(await store.uploadStatus(uploadId)).toMatchObject({ type: 'image/png', metadata: 'filename dHlwZWQucG5n' });
    const done = (await events(store, new Uint8Array([1, 2, 3]), { uploadId, segment: true })).at(-1)!;
    if (done.type !== 'committed') throw new Error(`ended with ${done.type}`);
    expect(done.file.type).toBe('image/png');
    expect((await store.stat(done.file.id)).type).toBe('image/png');
    const plain = (await events(store, new Uint8Array([4]), { name: 'plain.bin' })).at(-1)!;
    if (plain.type !== 'committed') throw new Error(`ended with ${plain.type}`);
    expect('type' in plain.file).toBe(false);
    await expect(events(store, new Uint8Array(0), { name: 'x', type: 'not a type' })).rejects.toMatchObject({ field: 'type' });
    await store.close();
  });
});
