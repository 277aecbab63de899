import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { Subject, from, lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { KiB, createMemoryStore, fromPull, openStore, toReadable, type ByteSource } from '../../src/index.js';
import { chunkBytes } from '../../src/internal/chunker.js';
import { HeldBytes } from '../../src/internal/gauge.js';
import { bytes, collect, put } from '../helpers/core.js';

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
  it('passes whole-chunk pieces on as views and copies others once', async () => {
    const big = bytes(2 * chunkSize, 2);
    async function* src() {
      yield big; // two whole chunks: no copy
      yield big.subarray(0, 100); // a partial chunk: copied into a chunk buffer
    }
    const out = [];
    for await (const c of chunkBytes(src(), chunkSize, new HeldBytes())) out.push(c);
    expect(out.map((c) => c.data.byteLength)).toEqual([chunkSize, chunkSize, 100]);
    expect(out[0]!.data.buffer).toBe(big.buffer);
    expect(out[1]!.data.buffer).toBe(big.buffer);
    expect(out[2]!.data.buffer).not.toBe(big.buffer);
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
