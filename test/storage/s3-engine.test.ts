import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/engine/store.js';
import { chunkKey } from '../../src/catalog/catalog.js';
import { sha256Hex } from '../../src/internal/hashing.js';
import type { UploadEvent } from '../../src/engine/upload.js';
import type { ChunkStore } from '../../src/storage/types.js';
import { backdate, CHUNK, collect, listKeys, put } from '../helpers/core.js';
import { s3rverPerSuite } from '../helpers/s3rver.js';

const chunkSize = CHUNK;
const download = (store: Store, id: string, range?: { start: number; end: number }) => collect(store.download(id, { range }));
const upload = (store: Store, data: Uint8Array, name: string) => put(store, data, name);

describe('the engine over S3 (s3rver)', () => {
  const s3 = s3rverPerSuite();
  const open = (prefix: string, extra: Record<string, unknown> = {}) =>
    openStore({ chunkStore: s3().store({ prefix }), chunkSize, ...extra });

  it('uploads, lists, downloads whole and in ranges, dedups, removes', async () => {
    const store = open('engine/roundtrip');
    const data = randomBytes(5 * chunkSize + 123);
    const file = await upload(store, data, 'a.bin');
    expect(file).toMatchObject({ name: 'a.bin', size: data.byteLength, chunkCount: 6 });
    expect((await store.list()).map((f) => f.id)).toEqual([file.id]);
    expect((await download(store, file.id)).equals(data)).toBe(true);
    expect((await download(store, file.id, { start: 1000, end: 3 * chunkSize + 7 })).equals(data.subarray(1000, 3 * chunkSize + 8))).toBe(
      true,
    );
    expect((await download(store, file.id, { start: data.byteLength - 1, end: data.byteLength - 1 })).equals(data.subarray(-1))).toBe(true);
    // The same bytes again: a second file, no new chunk objects.
    const chunksBefore = await listKeys(store.chunkStore, 'chunks/');
    const again = await upload(store, data, 'b.bin');
    expect(again.id).not.toBe(file.id);
    expect(await listKeys(store.chunkStore, 'chunks/')).toEqual(chunksBefore);
    expect(await listKeys(store.chunkStore, 'uploads/')).toEqual([]);
    await store.remove(file.id);
    expect((await store.list()).map((f) => f.id)).toEqual([again.id]);
    await store.close();
  });

  it('a chunk corrupted in the bucket fails with an IntegrityError, never wrong bytes', async () => {
    const store = open('engine/integrity');
    const data = randomBytes(3 * chunkSize);
    const file = await upload(store, data, 'c.bin');
    const manifest = await store.manifest(file.id);
    const victim = s3().objectFile(`engine/integrity/${chunkKey(manifest.chunks[1]!.key)}`);
    const bytes = await readFile(victim);
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(victim, bytes);
    const delivered: Uint8Array[] = [];
    const err = await lastValueFrom(store.download(file.id)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'integrity', name: 'IntegrityError' });
    // What did arrive is a prefix of the source (chunk 0 only).
    await new Promise<void>((resolve) =>
      store.download(file.id).subscribe({ next: (c) => delivered.push(c), error: () => resolve(), complete: () => resolve() }),
    );
    const got = Buffer.concat(delivered);
    expect(got.byteLength).toBeLessThan(data.byteLength);
    expect(got.equals(data.subarray(0, got.byteLength))).toBe(true);
    const report = await store.verify(file.id);
    expect(report.problems).toEqual([expect.objectContaining({ code: 'integrity', index: 1 })]);
    await store.close();
  });

  it('gc removes what no file references, keeps referenced and young chunks, honours S3 modified times', async () => {
    const store = open('engine/gc');
    const keep = randomBytes(2 * chunkSize + 5);
    const drop = randomBytes(2 * chunkSize + 9);
    const kept = await upload(store, keep, 'keep.bin');
    const dropped = await upload(store, drop, 'drop.bin');
    await store.remove(dropped.id);
    // Two orphan chunks: one aged behind the API (s3rver keeps mtime as LastModified), one fresh.
    const old = randomBytes(1000);
    const young = randomBytes(1001);
    await store.chunkStore.put(chunkKey(sha256Hex(old)), old);
    await store.chunkStore.put(chunkKey(sha256Hex(young)), young);
    await backdate(s3().objectFile(`engine/gc/${chunkKey(sha256Hex(old))}`), 2 * 3600_000);

    const graced = await store.gc(); // default grace: one hour
    expect(graced).toMatchObject({ removedChunks: 1, removedBytes: 1000 });
    expect(await store.chunkStore.has(chunkKey(sha256Hex(young)))).toBe(true);

    const report = await store.gc({ graceMs: 0 });
    expect(report.removedChunks).toBe(3 + 1); // drop.bin's three chunks and the young orphan
    const manifest = await store.manifest(kept.id);
    expect(await listKeys(store.chunkStore, 'chunks/')).toEqual(manifest.chunks.map((c) => chunkKey(c.key)).sort());
    expect((await download(store, kept.id)).equals(keep)).toBe(true);
    expect((await store.verify()).problems).toEqual([]);
    await store.close();
  });

  it('gc by another store on the same bucket, mid-upload, keeps the upload session’s chunks', async () => {
    const prefix = 'engine/lease';
    // Learn when the session object on S3 records two chunks: that is the lease gc must see.
    const inner = s3().store({ prefix });
    let onTwo!: () => void;
    const twoRecorded = new Promise<void>((resolve) => (onTwo = resolve));
    const spy: ChunkStore = {
      ...inner,
      name: inner.name,
      capabilities: inner.capabilities,
      async put(key, data, o) {
        const r = await inner.put(key, data, o);
        if (key.startsWith('uploads/') && JSON.parse(new TextDecoder().decode(data)).chunks.length >= 2) onTwo();
        return r;
      },
      get: (k, o) => inner.get(k, o),
      has: (k, o) => inner.has(k, o),
      delete: (k, o) => inner.delete(k, o),
      list: (p, o) => inner.list(p, o),
    };
    const a = openStore({ chunkStore: spy, chunkSize });
    const b = open(prefix);
    const data = randomBytes(4 * chunkSize + 77);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    async function* source() {
      yield data.subarray(0, 2 * chunkSize);
      await released;
      yield data.subarray(2 * chunkSize);
    }
    const done = lastValueFrom(a.upload(source(), { name: 'slow.bin' }).pipe(toArray()));
    await twoRecorded;
    const report = await b.gc({ graceMs: 0 });
    expect(report.removedChunks).toBe(0);
    expect(report.keptChunks).toBe(2);
    release();
    const file = ((await done).at(-1) as Extract<UploadEvent, { type: 'committed' }>).file;
    expect((await download(b, file.id)).equals(data)).toBe(true);
    expect((await b.verify(file.id)).problems).toEqual([]);
    await a.close();
    await b.close();
  });

  it('an upload interrupted on one store resumes on another over the same bucket', async () => {
    const prefix = 'engine/resume';
    const a = open(prefix);
    const b = open(prefix);
    const data = randomBytes(5 * chunkSize + 17);
    async function* failing() {
      yield data.subarray(0, 3 * chunkSize);
      throw new Error('client went away');
    }
    let uploadId: string | undefined;
    const err = await lastValueFrom(a.upload(failing(), { name: 'resumed.bin' }).pipe(toArray())).catch((e: unknown) => e);
    expect((err as Error).message).toContain('client went away');
    for await (const o of b.chunkStore.list('uploads/')) uploadId = /^uploads\/(\w+)\.json$/.exec(o.key)?.[1];
    expect(uploadId).toBeDefined();
    const status = await b.uploadStatus(uploadId!);
    expect(status.offset % chunkSize).toBe(0);
    expect(status.offset).toBeLessThanOrEqual(3 * chunkSize);
    const events = await lastValueFrom(b.upload((offset) => data.subarray(offset), { uploadId }).pipe(toArray()));
    expect(events[0]).toMatchObject({ type: 'started', uploadId, offset: status.offset });
    const file = (events.at(-1) as Extract<UploadEvent, { type: 'committed' }>).file;
    expect(file).toMatchObject({ name: 'resumed.bin', size: data.byteLength });
    expect((await download(a, file.id)).equals(data)).toBe(true);
    expect(await listKeys(a.chunkStore, 'uploads/')).toEqual([]);
    await a.close();
    await b.close();
  });
});
