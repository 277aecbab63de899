import { writeFile, open } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { Subject, from, lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { KiB, createMemoryStore, fromPull, openStore, toReadable, type ByteSource } from '../../src/index.js';
import { slabChunks } from '../../src/internal/chunker.js';
import { SlabPool } from '../../src/internal/slabs.js';
import { HeldBytes } from '../../src/internal/gauge.js';
import { bytes, collect, put, tempDir } from '../helpers/core.js';

const chunkSize = 64 * KiB;
const data = Buffer.from(bytes(3 * chunkSize + 333, 4));
const pieces = (size: number) => Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size));

describe('upload sources', () => {
  const sources: [string, () => ByteSource][] = [
    ['Uint8Array', () => data],
    ['Node Readable', () => Readable.from(pieces(10_000))],
    ['web ReadableStream', () => webStream(pieces(7_000))],
    [
      'async iterable',
      () =>
        (async function* () {
          yield* pieces(100_000);
        })(),
    ],
    ['iterable', () => pieces(50_000)],
    ['Observable', () => from(pieces(30_000))],
  ];
  it.each(sources)('a %s uploads byte-exact', async (_, make) => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    const file = await put(store, data);
    const again = await lastValueFrom(store.upload(make(), { name: 'n' }));
    if (again.type !== 'committed') throw new Error('not committed');
    expect(again.file.sha256).toBe(file.sha256);
    expect((await collect(store.download(again.file.id))).equals(data)).toBe(true);
  });

  it('strings from an async iterable are taken as UTF-8', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    const done = await lastValueFrom(
      store.upload(
        (async function* () {
          yield 'héllo ';
          yield 'wörld';
        })(),
        { name: 's' },
      ),
    );
    if (done.type !== 'committed') throw new Error('not committed');
    expect((await collect(store.download(done.file.id))).toString('utf8')).toBe('héllo wörld');
  });

  it('an Observable that pushes more than sourceBufferBytes ahead of storage fails with source_overflow', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize, sourceBufferBytes: 256 * KiB });
    const subject = new Subject<Uint8Array>();
    const done = lastValueFrom(store.upload(subject, { name: 'o' }));
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 20; i++) subject.next(bytes(chunkSize, i + 1)); // synchronously: 1.25 MiB at once
    subject.complete();
    await expect(done).rejects.toMatchObject({ code: 'source_overflow' });
    expect(await store.list()).toEqual([]);
  });

  it('a source yielding something other than bytes is a bad_request', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    await expect(lastValueFrom(store.upload([1, 2, 3] as never, { name: 'x' }))).rejects.toMatchObject({
      code: 'bad_request',
      field: 'source',
    });
    await expect(lastValueFrom(store.upload(42 as never, { name: 'x' }))).rejects.toMatchObject({ code: 'bad_request', field: 'source' });
  });
});

describe('chunking', () => {
  const big = bytes(2 * chunkSize + 100, 2);
  it('copies pieces once into reusable slabs, in chunk order, and gives back a slab it did not hand on', async () => {
    const gauge = new HeldBytes();
    const pool = new SlabPool(chunkSize, gauge);
    async function* src() {
      yield big.subarray(0, 1000);
      yield big.subarray(1000);
    }
    const out: Buffer[] = [];
    for await (const c of slabChunks({ pieces: src() }, pool, chunkSize, 0)) {
      expect(c.slab.sab).toBeInstanceOf(SharedArrayBuffer);
      out.push(Buffer.from(c.slab.data(c.length)));
      expect(c.last).toBe(c.length < chunkSize);
      pool.give(c.slab);
    }
    expect(out.map((c) => c.length)).toEqual([chunkSize, chunkSize, 100]);
    expect(Buffer.concat(out).equals(Buffer.from(big))).toBe(true);
    expect(gauge.held).toBe(0);
    // Stopped after the first chunk: the slab being filled goes back.
    const it = slabChunks({ pieces: src() }, pool, chunkSize, 0);
    const first = await it.next();
    pool.give(first.value!.slab);
    await it.return(undefined);
    expect(gauge.held).toBe(0);
  });

  it('reads a file handle in place from a position, and continues a slab holding a tail', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'f'), big);
    const handle = await open(path.join(dir, 'f'));
    const pool = new SlabPool(chunkSize);
    const tail = pool.take();
    tail.data(10).set(big.subarray(chunkSize - 10, chunkSize));
    const out: number[][] = [];
    for await (const c of slabChunks({ file: handle, position: chunkSize }, pool, chunkSize, 3, { slab: tail, length: 10 })) {
      out.push([c.index, c.length]);
      if (c.index === 3)
        expect(Buffer.from(c.slab.data(c.length)).equals(Buffer.from(big.subarray(chunkSize - 10, 2 * chunkSize - 10)))).toBe(true);
    }
    await handle.close();
    expect(out).toEqual([
      [3, chunkSize],
      [4, 110],
    ]);
  });
});

describe('fromPull', () => {
  it('reads the iterator only when asked, and returns it when unsubscribed', async () => {
    let reads = 0;
    let returned = false;
    const iterable: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => ({ done: false, value: ++reads }),
        return: async () => ((returned = true), { done: true, value: undefined }),
      }),
    };
    const pull = fromPull(iterable);
    const seen: number[] = [];
    const sub = pull.values$.subscribe((v) => seen.push(v));
    await new Promise((r) => setImmediate(r));
    expect(reads).toBe(0);
    pull.request(3);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([1, 2, 3]);
    expect(reads).toBe(3);
    sub.unsubscribe();
    await new Promise((r) => setImmediate(r));
    expect(returned).toBe(true);
  });
});

describe('toReadable', () => {
  it('works with stream.pipeline and propagates errors', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    const file = await put(store, data);
    const parts: Buffer[] = [];
    await pipeline(toReadable(store.download(file.id)), new Writable({ write: (c, _e, cb) => (parts.push(c), cb()) }));
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    const failing = toReadable(store.download('0'.repeat(29)));
    await expect(pipeline(failing, new Writable({ write: (_c, _e, cb) => cb() }))).rejects.toMatchObject({ code: 'not_found' });
  });
});

function webStream(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < parts.length) controller.enqueue(parts[i++]!);
      else controller.close();
    },
  });
}
