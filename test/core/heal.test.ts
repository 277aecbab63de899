import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createFsStore, createMemoryStore, openStore, type ChunkFault, type ChunkStore } from '../../src/index.js';
import { CHUNK, bytes, collect, listKeys, put, tempDir } from '../helpers/core.js';

const objectOf = (key: string) => `chunks/${key.slice(0, 2)}/${key.slice(2, 4)}/${key}`;

/** The ways a stored chunk goes bad, each through the store's own API (the gateway test does it on disk). */
const damages: [string, (s: ChunkStore, key: string) => Promise<unknown>][] = [
  [
    'a flipped byte',
    async (s, k) =>
      s.put(
        objectOf(k),
        Buffer.from(await s.get(objectOf(k))).map((b, i) => (i === 100 ? b ^ 1 : b)),
      ),
  ],
  ['a truncation', async (s, k) => s.put(objectOf(k), (await s.get(objectOf(k))).subarray(0, 10))],
];

describe.each([
  ['memory', async () => createMemoryStore()],
  ['fs', async () => createFsStore(await tempDir('heal'), { fsync: false })],
])('healing on the %s store', (_name, makeStore) => {
  const open = async () => {
    const store = openStore({ chunkStore: await makeStore(), chunkSize: CHUNK });
    const faults: ChunkFault[] = [];
    store.observe({ chunkFault: (f) => faults.push(f) });
    return { store, faults };
  };

  it.each(damages)(
    '%s: the read fails, the chunk is moved aside and said in stat; an upload of the bytes heals every file',
    async (_d, damage) => {
      const { store, faults } = await open();
      const data = Buffer.from(bytes(4 * CHUNK + 7, 3));
      const a = await put(store, data, 'a.bin');
      const victim = (await store.manifest(a.id)).chunks[2]!;
      await damage(store.chunkStore, victim.key);

      const err = await collect(store.download(a.id)).catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'integrity',
        index: 2,
        message: expect.stringContaining(`bytes ${2 * CHUNK}-${3 * CHUNK - 1} of "a.bin"`),
      });
      // Moved aside before the error came out: the key is free, the bad bytes kept under quarantine/.
      expect(await store.chunkStore.has(objectOf(victim.key))).toBe(false);
      expect((await listKeys(store.chunkStore, 'quarantine/')).map((k) => k.split('.')[0])).toEqual([`quarantine/${victim.key}`]);
      expect(faults).toEqual([expect.objectContaining({ reason: 'corrupt', fileId: a.id, index: 2, key: victim.key })]);
      expect((await store.stat(a.id)).damaged).toEqual([{ index: 2, start: 2 * CHUNK, end: 3 * CHUNK - 1, reason: 'corrupt' }]);
      // Read again (and by verify): still integrity, not "missing", and not moved twice.
      await expect(collect(store.download(a.id))).rejects.toMatchObject({ code: 'integrity', index: 2 });
      expect((await store.verify(a.id)).problems).toEqual([expect.objectContaining({ code: 'integrity', index: 2, name: 'a.bin' })]);
      expect(faults).toHaveLength(1);
      expect((await store.repair()).files).toEqual([
        { id: a.id, name: 'a.bin', status: 'damaged', damaged: [expect.objectContaining({ index: 2 })] },
      ]);

      // The same bytes uploaded again (another name: a new file) store the chunk again.
      const b = await put(store, data, 'b.bin');
      expect((await collect(store.download(b.id))).equals(data)).toBe(true);
      expect((await collect(store.download(a.id))).equals(data)).toBe(true);
      expect((await store.stat(a.id)).damaged).toBeUndefined();
      const repaired = await store.repair();
      expect(repaired).toMatchObject({ whole: 2, damaged: 0, released: 1 });
      expect(repaired.files.map((f) => [f.name, f.status]).sort()).toEqual([
        ['a.bin', 'whole'],
        ['b.bin', 'whole'],
      ]);
      expect(await listKeys(store.chunkStore, 'quarantine/')).toEqual([]);
      expect((await store.verify()).problems).toEqual([]);
    },
  );

  it('a deleted chunk is missing_chunk in the file terms (not not_found), and an upload of its bytes heals it', async () => {
    const { store, faults } = await open();
    const data = Buffer.from(bytes(3 * CHUNK, 4));
    const a = await put(store, data, 'lost.bin');
    const victim = (await store.manifest(a.id)).chunks[1]!;
    await store.chunkStore.delete(objectOf(victim.key));

    const err = (await collect(store.download(a.id)).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'missing_chunk', status: 500, fileId: a.id, index: 1, start: CHUNK, end: 2 * CHUNK - 1 });
    expect(err.message).toContain('lost.bin');
    expect(err.message).not.toMatch(/chunks\/|[0-9a-f]{64}/);
    await expect(collect(store.download(a.id, { range: { start: CHUNK + 5, end: CHUNK + 9 } }))).rejects.toMatchObject({
      code: 'missing_chunk',
    });
    expect(faults[0]).toMatchObject({ reason: 'missing', index: 1, key: victim.key });
    expect((await store.stat(a.id)).damaged).toEqual([{ index: 1, start: CHUNK, end: 2 * CHUNK - 1, reason: 'missing' }]);
    const report = await store.verify();
    expect(report.problems).toEqual([
      expect.objectContaining({ id: a.id, name: 'lost.bin', code: 'missing_chunk', index: 1, start: CHUNK }),
    ]);

    await put(store, data.subarray(CHUNK, 2 * CHUNK), 'just-that-chunk.bin');
    expect((await collect(store.download(a.id))).equals(data)).toBe(true);
    expect(await store.repair(a.id)).toMatchObject({ whole: 1, damaged: 0, files: [{ id: a.id, status: 'whole', damaged: [] }] });
  });

  it('a resumed upload stores a chunk moved aside again instead of trusting the key', async () => {
    const { store } = await open();
    const data = Buffer.from(bytes(3 * CHUNK, 5));
    const a = await put(store, data, 'a.bin');
    const victim = (await store.manifest(a.id)).chunks[2]!;
    await damages[0]![1](store.chunkStore, victim.key);
    await expect(store.verify(a.id)).resolves.toMatchObject({ problems: [expect.objectContaining({ code: 'integrity' })] });
    // An upload cut after its first chunk, then resumed with the rest: the last chunk is written again.
    const first = await lastValueFrom(
      store.upload(data.subarray(0, CHUNK), { name: 'again.bin', segment: true, expectedSize: data.length }).pipe(toArray()),
    );
    const started = first[0]!;
    if (started.type !== 'started') throw new Error(`expected started, got ${started.type}`);
    const uploadId = started.uploadId;
    const events = await lastValueFrom(store.upload(data.subarray(CHUNK), { uploadId, segment: true }).pipe(toArray()));
    expect(events.at(-1)).toMatchObject({ type: 'committed' });
    expect((await collect(store.download(a.id))).equals(data)).toBe(true);
  });
});
