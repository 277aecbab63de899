import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KiB, createMemoryStore, openStore } from '../../src/index.js';
import { bytes, collect, put, tick, wrapStore } from '../helpers/core.js';

// Sizes around the interesting edges: empty, one byte, exact multiples of the chunk size ±1.
const sizeFor = (chunkSize: number) =>
  fc.oneof(
    fc.constantFrom(0, 1),
    fc.integer({ min: 1, max: 5 }).chain((k) => fc.constantFrom(k * chunkSize - 1, k * chunkSize, k * chunkSize + 1)),
    fc.integer({ min: 2, max: 5 * chunkSize }),
  );

const setup = fc
  .record({
    chunkSize: fc.constantFrom(64 * KiB, 64 * KiB + 1, 100 * KiB, 128 * KiB),
    uploadConcurrency: fc.integer({ min: 1, max: 6 }),
    downloadConcurrency: fc.integer({ min: 1, max: 6 }),
    latencies: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 16 }),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  })
  .chain((s) => fc.record({ s: fc.constant(s), size: sizeFor(s.chunkSize) }));

/** Per-call latencies drawn by fast-check make chunks complete out of order. */
function latencyStore(latencies: number[]) {
  let i = 0;
  return wrapStore(createMemoryStore(), async (op) => {
    if (op === 'put' || op === 'get') await tick(latencies[i++ % latencies.length]);
  });
}

describe('round trip (property)', () => {
  it('download(upload(x)) equals x for any size, chunk size, concurrency and latency', async () => {
    await fc.assert(
      fc.asyncProperty(setup, async ({ s, size }) => {
        const store = openStore({
          chunkStore: latencyStore(s.latencies),
          chunkSize: s.chunkSize,
          uploadConcurrency: s.uploadConcurrency,
          downloadConcurrency: s.downloadConcurrency,
        });
        const data = bytes(size, s.seed);
        const file = await put(store, data);
        expect(file.size).toBe(size);
        expect(file.chunkCount).toBe(Math.ceil(size / s.chunkSize));
        expect((await collect(store.download(file.id))).equals(data)).toBe(true);
        expect(store.gauge.held).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  it('every range equals the matching slice', async () => {
    const withRange = setup
      .filter(({ size }) => size > 0)
      .chain(({ s, size }) =>
        fc.record({
          s: fc.constant(s),
          size: fc.constant(size),
          start: fc.integer({ min: 0, max: size - 1 }),
          len: fc.integer({ min: 1, max: size + 10 }),
        }),
      );
    await fc.assert(
      fc.asyncProperty(withRange, async ({ s, size, start, len }) => {
        const store = openStore({
          chunkStore: latencyStore(s.latencies),
          chunkSize: s.chunkSize,
          downloadConcurrency: s.downloadConcurrency,
        });
        const data = bytes(size, s.seed);
        const file = await put(store, data);
        const end = start + len - 1;
        const got = await collect(store.download(file.id, { range: { start, end } }));
        expect(got.equals(Buffer.from(data.subarray(start, Math.min(end, size - 1) + 1)))).toBe(true);
        const open = await collect(store.download(file.id, { range: { start } }));
        expect(open.equals(Buffer.from(data.subarray(start)))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('a range starting at or past the end is RangeNotSatisfiable', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize: 64 * KiB });
    const file = await put(store, bytes(1000));
    await expect(collect(store.download(file.id, { range: { start: 1000, end: 2000 } }))).rejects.toMatchObject({
      code: 'range_not_satisfiable',
    });
    const empty = await put(store, new Uint8Array(0));
    await expect(collect(store.download(empty.id, { range: { start: 0 } }))).rejects.toMatchObject({ code: 'range_not_satisfiable' });
    await expect(collect(store.download(file.id, { range: { start: 5, end: 2 } }))).rejects.toMatchObject({
      code: 'bad_request',
      field: 'range.end',
    });
    await expect(collect(store.download(file.id, { range: { start: -1 } }))).rejects.toMatchObject({
      code: 'bad_request',
      field: 'range.start',
    });
  });
});
