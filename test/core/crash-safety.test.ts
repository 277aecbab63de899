import { lastValueFrom, take, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { KiB, createFsStore, openStore, type ChunkStore, type UploadEvent } from '../../src/index.js';
import { SAVE_EVERY_CHUNKS } from '../../src/engine/upload-session.js';
import { bytes, collect, put, tempDir, wrapStore } from '../helpers/core.js';

const chunkSize = 64 * KiB;
// Enough chunks for two progress saves (one every SAVE_EVERY_CHUNKS), so each stage is reached.
const CHUNKS = 2 * SAVE_EVERY_CHUNKS + 1;

/** Fails the `nth` call (1-based) of `op` on keys with `prefix`. */
function failing(inner: ChunkStore, op: string, prefix: string, nth: number) {
  let seen = 0;
  return wrapStore(inner, (o, key) => {
    if (o === op && key.startsWith(prefix) && ++seen === nth) throw new Error(`injected ${op} failure on ${key}`);
  });
}

async function uploadEvents(store: ReturnType<typeof openStore>, data: Uint8Array) {
  const events: UploadEvent[] = [];
  const err = await new Promise<unknown>((resolve) => {
    store
      .upload(data, { name: 'doomed.bin' })
      .subscribe({ next: (e) => events.push(e), error: resolve, complete: () => resolve(undefined) });
  });
  return { events, err };
}

describe('crash safety', () => {
  // [stage, op, key prefix, nth call, chunks certainly stored before the failure]
  const stages: [string, string, string, number, number][] = [
    ['creating the upload session', 'put', 'uploads/', 1, 0],
    ['storing the first chunk', 'put', 'chunks/', 1, 0],
    ['storing a middle chunk', 'put', 'chunks/', 4, 2],
    ['saving upload progress', 'put', 'uploads/', 3, 1],
    ['committing the manifest', 'put', 'files/', 1, CHUNKS + 1],
  ];
  for (const [stage, op, prefix, nth, stored] of stages) {
    it(`an upload failing while ${stage} leaves no visible file, and gc then removes only its orphans`, async () => {
      const dir = await tempDir();
      const fs = createFsStore(dir);
      const keep = openStore({ chunkStore: fs, chunkSize });
      const survivor = await put(keep, bytes(3 * chunkSize + 7, 99), 'survivor.bin');

      const faulty = failing(fs, op, prefix, nth);
      const store = openStore({ chunkStore: faulty, chunkSize, uploadConcurrency: 2 });
      const { events, err } = await uploadEvents(store, bytes(CHUNKS * chunkSize + 3, 5));
      // Its last progress save (recording every chunk it stored) lands before anyone else touches the session.
      await store.close();
      await faulty.idle(); // cancelled sibling writes may still land: gc must see them
      expect(err).toBeInstanceOf(Error);
      expect(events.some((e) => e.type === 'committed')).toBe(false);
      expect((await keep.list()).map((f) => f.id)).toEqual([survivor.id]);

      // The upload stays resumable until abandoned; once it is, gc reclaims its chunks.
      const started = events.find((e) => e.type === 'started');
      if (started?.type === 'started') await keep.abortUpload(started.uploadId).catch(() => undefined);
      const report = await keep.gc({ graceMs: 0 });
      const left = [];
      for await (const o of fs.list('chunks/')) left.push(o.key);
      expect(left).toHaveLength(survivor.chunkCount);
      expect(report.removedChunks).toBeGreaterThanOrEqual(stored);
      expect((await keep.verify()).problems).toEqual([]);
      expect((await collect(keep.download(survivor.id))).equals(Buffer.from(bytes(3 * chunkSize + 7, 99)))).toBe(true);
    });
  }

  it('an upload whose source fails mid-way leaves no visible file', async () => {
    const store = openStore({ dir: await tempDir(), chunkSize });
    async function* broken() {
      yield bytes(3 * chunkSize);
      throw new Error('source broke');
    }
    await expect(lastValueFrom(store.upload(broken(), { name: 'x' }))).rejects.toThrow('source broke');
    expect(await store.list()).toEqual([]);
  });

  it('an upload cancelled mid-way leaves no visible file and holds nothing', async () => {
    const dir = await tempDir();
    const store = openStore({ dir, chunkSize });
    const controller = new AbortController();
    const events = store.upload(bytes(20 * chunkSize), { name: 'x', signal: controller.signal });
    const sub = events.subscribe({ next: (e) => e.type === 'progress' && e.chunks >= 2 && controller.abort(), error: () => undefined });
    await new Promise<void>((r) => sub.add(r));
    expect(await store.list()).toEqual([]);
    expect(store.gauge.held).toBe(0);
    await store.close();
  });

  it('dedup: two files share chunks; removing one keeps the other whole after gc', async () => {
    const dir = await tempDir();
    const store = openStore({ dir, chunkSize });
    const shared = bytes(4 * chunkSize, 3);
    const a = Buffer.concat([shared, bytes(chunkSize, 4)]);
    const b = Buffer.concat([shared, bytes(2 * chunkSize + 9, 6)]);
    const fa = await put(store, a, 'a');
    const fb = await put(store, b, 'b');
    let count = 0;
    for await (const _ of store.chunkStore.list('chunks/')) count++;
    expect(count).toBe(4 + 1 + 3); // shared chunks stored once
    await store.remove(fa.id);
    const report = await store.gc({ graceMs: 0 });
    expect(report.removedChunks).toBe(1);
    expect((await collect(store.download(fb.id))).equals(b)).toBe(true);
    expect(await store.verify()).toMatchObject({ files: 1, problems: [] });
  });

  it('gc keeps chunks younger than the grace period (an upload elsewhere may need them)', async () => {
    const store = openStore({ dir: await tempDir(), chunkSize });
    const f = await put(store, bytes(2 * chunkSize));
    await store.remove(f.id);
    expect(await store.gc()).toMatchObject({ removedChunks: 0, keptChunks: 2 });
    expect(await store.gc({ graceMs: 0 })).toMatchObject({ removedChunks: 2 });
  });

  it('gc never removes chunks of an upload in flight', async () => {
    const store = openStore({ dir: await tempDir(), chunkSize, uploadConcurrency: 2 });
    const data = bytes(12 * chunkSize, 8);
    let gcRun: Promise<unknown> | undefined;
    const last = await lastValueFrom(
      store.upload(data, { name: 'live' }).pipe(
        // Run gc with no grace period while the upload is half-way.
        tap((e) => {
          if (e.type === 'progress' && e.chunks >= 6) gcRun ??= store.gc({ graceMs: 0 });
        }),
      ),
    );
    expect(await gcRun).toMatchObject({ removedChunks: 0 });
    if (last.type !== 'committed') throw new Error('not committed');
    await store.gc({ graceMs: 0 });
    expect((await collect(store.download(last.file.id))).equals(Buffer.from(data))).toBe(true);
  });

  it('a resumed upload sends only the missing bytes and commits the whole file', async () => {
    const dir = await tempDir();
    const store = openStore({ dir, chunkSize, uploadConcurrency: 1 });
    const data = bytes(10 * chunkSize + 17, 12);
    const first = await lastValueFrom(store.upload(data, { name: 'resumable' }).pipe(take(5), toArray()));
    const started = first[0]!;
    if (started.type !== 'started') throw new Error('no start');
    // The interrupted upload records its progress on teardown; uploadStatus waits for that save.
    const status = await store.uploadStatus(started.uploadId);
    expect(status.offset).toBe(4 * chunkSize);
    let asked = -1;
    const events = await lastValueFrom(
      store.upload((offset) => ((asked = offset), data.subarray(offset)), { uploadId: started.uploadId }).pipe(toArray()),
    );
    expect(asked).toBe(status.offset);
    const last = events.at(-1)!;
    if (last.type !== 'committed') throw new Error('not committed');
    expect(last.file.name).toBe('resumable');
    expect((await collect(store.download(last.file.id))).equals(Buffer.from(data))).toBe(true);
    // Committed: the upload id now answers with the file (see resume-committed.test.ts).
    expect(await store.uploadStatus(started.uploadId)).toMatchObject({ offset: data.length, committed: { id: last.file.id } });
  });
});
