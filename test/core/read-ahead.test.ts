import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KiB, createDemand, createMemoryStore, openStore, type ChunkStore } from '../../src/index.js';
import { bytes, put, tick } from '../helpers/core.js';

const chunkSize = 64 * KiB;
const CHUNKS = 10;

/** A store whose gets each wait a few ms, logging when each starts and ends and how many run at once. */
function loggingStore(inner: ChunkStore) {
  const log: string[] = [];
  const state = { reading: 0, maxReading: 0 };
  const store: ChunkStore = {
    ...inner,
    async get(key, o) {
      const name = key.startsWith('chunks/') ? key.slice(-6) : `meta:${key}`;
      state.reading++;
      state.maxReading = Math.max(state.maxReading, state.reading);
      log.push(`get ${name}`);
      try {
        await tick(3);
        return await inner.get(key, o);
      } finally {
        state.reading--;
        log.push(`got ${name}`);
      }
    },
  };
  return { store, log, state };
}

describe('download: store reads overlap verification and delivery, within (N+1) slabs', () => {
  for (const n of [1, 3]) {
    it(`at concurrency ${n}: ≤ ${n} store reads at once, yet the next read starts before the chunk before it is delivered`, async () => {
      const inner = createMemoryStore();
      const seed = openStore({ chunkStore: inner, chunkSize });
      const data = Buffer.from(bytes(CHUNKS * chunkSize, 3));
      const file = await put(seed, data);
      const { store: logged, log, state } = loggingStore(inner);
      const store = openStore({ chunkStore: logged, chunkSize, downloadConcurrency: n });
      const m = await store.manifest(file.id);
      const keyOf = (i: number) => m.chunks[i]!.key.slice(-6);
      let peak = 0;
      const got: Buffer[] = [];
      await new Promise<void>((resolve, reject) =>
        store.downloadManifest(m).subscribe({
          next: (c) => {
            log.push(`deliver ${got.length}`);
            got.push(Buffer.from(c));
            peak = Math.max(peak, store.gauge.held);
          },
          error: reject,
          complete: resolve,
        }),
      );
      expect(Buffer.concat(got).equals(data)).toBe(true);
      expect(state.maxReading).toBeLessThanOrEqual(n);
      expect(peak).toBeLessThanOrEqual((n + 1) * chunkSize);
      // Chunk n's read (the first beyond the window) started before chunk 0 was delivered: it did
      // not wait for chunk 0's hash and delivery, only for a read to finish.
      expect(log.indexOf(`get ${keyOf(n)}`)).toBeLessThan(log.indexOf('deliver 0'));
      // Delivery in order.
      expect(log.filter((l) => l.startsWith('deliver'))).toEqual(Array.from({ length: CHUNKS }, (_, i) => `deliver ${i}`));
      expect(store.gauge.held).toBe(0);
      await store.close();
    });
  }

  it('a consumer that stops acknowledging stops the reads at (N+1) slabs, with N more reads waiting for one', async () => {
    const inner = createMemoryStore();
    const seed = openStore({ chunkStore: inner, chunkSize });
    const file = await put(seed, bytes(CHUNKS * chunkSize, 4));
    const { store: logged, log, state } = loggingStore(inner);
    const n = 2;
    const store = openStore({ chunkStore: logged, chunkSize, downloadConcurrency: n });
    const { demand$, request } = createDemand();
    let delivered = 0;
    const sub = store.download(file.id, { demand: demand$, lend: true }).subscribe({ next: () => delivered++ });
    request(1);
    for (let i = 0; i < 20; i++) await tick(5); // far longer than the reads take
    expect(delivered).toBe(1);
    // One delivered and unacknowledged + n read ahead = n + 1 slabs, no more; the n reads after
    // them waited out their latency and now wait for a slab, inside the store's get.
    expect(store.gauge.held).toBe((n + 1) * chunkSize);
    expect(log.filter((l) => l.startsWith('get ') && !l.includes('meta:')).length).toBe(n + 1 + n);
    expect(state.reading).toBe(n);
    sub.unsubscribe();
    expect(store.gauge.held).toBe(0);
    await store.close();
  });
});

/**
 * A store whose chunk gets each wait for the test to open their gate (their latency), then read
 * through the late buffer: logs `get i` when a get starts and `take i` when chunk i got its buffer.
 */
function gatedStore(inner: ChunkStore, keys: string[]) {
  const log: string[] = [];
  const gates = keys.map(() => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  });
  const store: ChunkStore = {
    ...inner,
    async get(key, o = {}) {
      const i = keys.findIndex((k) => key.endsWith(k));
      if (i < 0) return inner.get(key, o);
      log.push(`get ${i}`);
      await gates[i]!.promise;
      const late = o.lateInto;
      const lateInto = late && { size: late.size, take: () => late.take().then((b) => (log.push(`take ${i}`), b)) };
      return inner.get(key, { ...o, lateInto });
    },
  };
  return { store, log, open: (i: number) => gates[i]!.resolve() };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
}

describe('download: a read waiting out its latency holds no slab', () => {
  async function setup(chunks: number, n: number, seedByte: number) {
    const inner = createMemoryStore();
    const data = Buffer.from(bytes(chunks * chunkSize, seedByte));
    const file = await put(openStore({ chunkStore: inner, chunkSize }), data);
    const keys = (await openStore({ chunkStore: inner, chunkSize }).manifest(file.id)).chunks.map((c) => c.key);
    const gated = gatedStore(inner, keys);
    const store = openStore({ chunkStore: gated.store, chunkSize, downloadConcurrency: n });
    return { ...gated, store, data, file };
  }

  it('reads start while every slab is out, and slabs go to chunks in order whatever order their bytes come in', async () => {
    const n = 2;
    const { store, log, open, file, data } = await setup(6, n, 7);
    const { demand$, request } = createDemand();
    const got: Buffer[] = [];
    let done = false;
    let acking = false;
    store.download(file.id, { demand: demand$ }).subscribe({
      next: (c) => {
        got.push(Buffer.from(c));
        if (acking) setImmediate(() => request(1)); // a window-1 consumer: each credit acknowledges the last chunk
      },
      complete: () => (done = true),
    });
    await settle();
    expect(log).toEqual(['get 0', 'get 1']); // n reads
    open(1); // chunk 1's bytes come first: it must not take a slab before chunk 0
    await settle();
    expect(log).toEqual(['get 0', 'get 1']);
    expect(store.gauge.held).toBe(0);
    open(0);
    await settle();
    expect(log.slice(2, 4)).toEqual(['take 0', 'take 1']);
    // No credit yet, so nothing is delivered: chunks 0 and 1 hold two slabs, chunk 2 may take the third.
    open(2);
    open(3);
    open(4);
    await settle();
    expect(store.gauge.held).toBe((n + 1) * chunkSize);
    expect(log).toContain('take 2');
    expect(log).not.toContain('take 3'); // bytes ready, but no slab: it waits inside its get …
    expect(log).toContain('get 4'); // … and so does the read after it, which had its latency meanwhile
    expect(got.length).toBe(0);
    acking = true;
    request(1);
    open(5);
    for (let i = 0; i < 50 && !done; i++) await tick(2);
    expect(done).toBe(true);
    expect(Buffer.concat(got).equals(data)).toBe(true);
    expect(log.filter((l) => l.startsWith('take'))).toEqual([0, 1, 2, 3, 4, 5].map((i) => `take ${i}`));
    expect(store.gauge.held).toBe(0);
    await store.close();
  });

  it('any order of latencies and credits: everything in order, ≤ (N+1) slabs, slabs taken in chunk order, no deadlock', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc
          .integer({ min: 1, max: 7 })
          .chain((chunks) =>
            fc.tuple(fc.constant(chunks), fc.shuffledSubarray([...Array(chunks).keys()], { minLength: chunks, maxLength: chunks })),
          ),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 20 }),
        async (n, [chunks, order], credits) => {
          const { store, log, open, file, data } = await setup(chunks, n, chunks * 10 + n);
          const { demand$, request } = createDemand();
          const got: Buffer[] = [];
          let peak = 0;
          let done = false;
          store.download(file.id, { demand: demand$, lend: true }).subscribe({
            next: (c) => got.push(Buffer.from(c)),
            complete: () => (done = true),
          });
          // Gates open in the drawn order, credits come in the drawn amounts, interleaved.
          for (let step = 0; !done && step < 400; step++) {
            const gate = order[step];
            if (gate !== undefined) open(gate);
            const credit = step < credits.length ? credits[step]! : 1;
            if (credit > 0) request(credit);
            await settle();
            peak = Math.max(peak, store.gauge.held);
          }
          expect(done).toBe(true);
          expect(peak).toBeLessThanOrEqual((n + 1) * chunkSize);
          expect(Buffer.concat(got).equals(data)).toBe(true);
          const takes = log.filter((l) => l.startsWith('take'));
          expect(takes).toEqual(takes.map((_, i) => `take ${i}`));
          await store.close();
        },
      ),
      { numRuns: 60 },
    );
  });
});
