import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KiB, createMemoryStore, openStore, type ChunkStore } from '../../src/index.js';
import { bytes, put } from '../helpers/core.js';

const chunkSize = 64 * KiB;

/** Resolves once the promise jobs and immediates queued so far (and the ones they queue) ran. */
async function settle(): Promise<void> {
  for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

/**
 * A store whose chunk gets each wait for two gates the test opens: `latency` (before the store
 * asks for its buffer: `take i` is logged once it got one) and `bytes` (before the bytes are
 * copied in and the get resolves). Logs `get i` when a chunk get starts.
 */
function gatedStore(inner: ChunkStore, keys: string[]) {
  const log: string[] = [];
  const latency = keys.map(gate);
  const body = keys.map(gate);
  const store: ChunkStore = {
    ...inner,
    async get(key, o = {}) {
      const i = keys.findIndex((k) => key.endsWith(k));
      if (i < 0 || !o.lateInto) return inner.get(key, o);
      log.push(`get ${i}`);
      await latency[i]!.opened;
      const buf = await o.lateInto.take();
      log.push(`take ${i}`);
      await body[i]!.opened;
      const data = await inner.get(key);
      const n = Math.min(buf.byteLength, data.byteLength);
      buf.set(data.subarray(0, n));
      return buf.subarray(0, n);
    },
  };
  return { store, log, latency: (i: number) => latency[i]!.open(), bytes: (i: number) => body[i]!.open() };
}

async function setup(chunks: number, n: number, seed: number) {
  const inner = createMemoryStore();
  const data = Buffer.from(bytes(chunks * chunkSize, seed));
  const seeded = openStore({ chunkStore: inner, chunkSize });
  const file = await put(seeded, data);
  const keys = (await seeded.manifest(file.id)).chunks.map((c) => c.key);
  const gated = gatedStore(inner, keys);
  return { ...gated, store: openStore({ chunkStore: gated.store, chunkSize, downloadConcurrency: n }), data, file };
}

function download(store: ReturnType<typeof openStore>, id: string) {
  const got: Buffer[] = [];
  const state = { done: false, error: undefined as unknown, peak: 0 };
  const sub = store.download(id).subscribe({
    next: (c) => {
      got.push(Buffer.from(c));
      state.peak = Math.max(state.peak, store.gauge.held);
    },
    error: (err: unknown) => (state.error = err),
    complete: () => (state.done = true),
  });
  return { got, state, sub };
}

describe('download without demand: a read waiting out its latency holds no slab', () => {
  it('reads start while every slab is out, and slabs go to chunks in order whatever order their bytes come in', async () => {
    const n = 2; // ≤ 2 reads, ≤ 3 slabs
    const t = await setup(6, n, 7);
    const d = download(t.store, t.file.id);
    await settle();
    expect(t.log).toEqual(['get 0', 'get 1']);
    t.latency(1); // chunk 1's bytes are ready first: it must not take a slab before chunk 0
    await settle();
    expect(t.log).toEqual(['get 0', 'get 1']);
    t.latency(0);
    await settle();
    expect(t.log).toEqual(['get 0', 'get 1', 'take 0', 'take 1']);
    t.bytes(1); // chunk 1 is read and waits for chunk 0: its read ends, chunk 2's starts
    await settle();
    t.latency(2);
    t.bytes(2);
    await settle();
    expect(t.store.gauge.held).toBe((n + 1) * chunkSize); // chunk 0 reading, 1 and 2 waiting for it
    expect(t.log).toContain('get 3'); // the next read waits out its latency meanwhile …
    t.latency(3);
    await settle();
    expect(t.log).not.toContain('take 3'); // … then waits for a slab, inside its get
    expect(t.store.gauge.held).toBe((n + 1) * chunkSize);
    for (let i = 0; i < 6; i++) {
      t.latency(i);
      t.bytes(i);
    }
    for (let i = 0; i < 50 && !d.state.done; i++) await settle();
    expect(d.state.done).toBe(true);
    expect(Buffer.concat(d.got).equals(t.data)).toBe(true);
    expect(t.log.filter((l) => l.startsWith('take'))).toEqual([0, 1, 2, 3, 4, 5].map((i) => `take ${i}`));
    expect(d.state.peak).toBeLessThanOrEqual((n + 1) * chunkSize);
    expect(t.store.gauge.held).toBe(0);
  });

  it('any order of latencies and byte arrivals: in order, ≤ (N+1) slabs, slabs taken in chunk order, no deadlock', async () => {
    const cases = fc.integer({ min: 1, max: 7 }).chain((chunks) =>
      fc.record({
        n: fc.integer({ min: 1, max: 3 }),
        chunks: fc.constant(chunks),
        // Each gate (latency i = i, bytes i = chunks + i) once, in a drawn order.
        order: fc.shuffledSubarray([...Array(2 * chunks).keys()], { minLength: 2 * chunks, maxLength: 2 * chunks }),
      }),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ n, chunks, order }) => {
        const t = await setup(chunks, n, chunks * 10 + n);
        const d = download(t.store, t.file.id);
        for (const g of order) {
          if (g < chunks) t.latency(g);
          else t.bytes(g - chunks);
          await settle();
          d.state.peak = Math.max(d.state.peak, t.store.gauge.held);
        }
        for (let i = 0; i < 50 && !d.state.done; i++) await settle();
        expect(d.state.error).toBeUndefined();
        expect(d.state.done).toBe(true);
        expect(d.state.peak).toBeLessThanOrEqual((n + 1) * chunkSize);
        expect(Buffer.concat(d.got).equals(t.data)).toBe(true);
        const takes = t.log.filter((l) => l.startsWith('take'));
        expect(takes).toEqual(takes.map((_, i) => `take ${i}`));
        expect(t.store.gauge.held).toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it('unsubscribing while a read waits for a slab gives it none: nothing is read into a dead transfer', async () => {
    const t = await setup(6, 2, 8);
    const d = download(t.store, t.file.id);
    for (const i of [0, 1]) t.latency(i);
    t.bytes(1);
    await settle();
    t.latency(2);
    t.bytes(2);
    await settle();
    t.latency(3);
    await settle();
    expect(t.log).not.toContain('take 3'); // waiting for a slab
    d.sub.unsubscribe();
    await settle();
    expect(t.log).not.toContain('take 3');
    expect(t.store.gauge.held).toBe(0);
  });
});

describe('download: stores that do not take late buffers, or take one and fail', () => {
  it('a store without capabilities.lateInto gets `into` with the slab in hand, read in place', async () => {
    const inner = createMemoryStore();
    const data = Buffer.from(bytes(5 * chunkSize, 9));
    const file = await put(openStore({ chunkStore: inner, chunkSize }), data);
    const seen: string[] = [];
    const plain: ChunkStore = {
      ...inner,
      capabilities: { conditionalPut: true, rangeGet: true },
      get: (key, o = {}) => {
        if (key.startsWith('chunks/')) seen.push(o.lateInto ? 'late' : o.into ? 'into' : 'none');
        return inner.get(key, o);
      },
    };
    const store = openStore({ chunkStore: plain, chunkSize, downloadConcurrency: 2 });
    const d = download(store, file.id);
    for (let i = 0; i < 50 && !d.state.done; i++) await settle();
    expect(Buffer.concat(d.got).equals(data)).toBe(true);
    expect(seen).toEqual(['into', 'into', 'into', 'into', 'into']);
    expect(d.state.peak).toBeLessThanOrEqual(3 * chunkSize);
  });

  it('a store that asks for the buffer and then fails: the download fails with its error and every slab comes back', async () => {
    const inner = createMemoryStore();
    const data = Buffer.from(bytes(6 * chunkSize, 10));
    const file = await put(openStore({ chunkStore: inner, chunkSize }), data);
    const keys = (await openStore({ chunkStore: inner, chunkSize }).manifest(file.id)).chunks.map((c) => c.key);
    const failing: ChunkStore = {
      ...inner,
      get: async (key, o = {}) => {
        if (key.endsWith(keys[2]!) && o.lateInto) {
          void o.lateInto.take().catch(() => undefined); // asked for, never waited for
          throw new Error('backend broke');
        }
        return inner.get(key, o);
      },
    };
    const store = openStore({ chunkStore: failing, chunkSize, downloadConcurrency: 2 });
    const d = download(store, file.id);
    for (let i = 0; i < 50 && d.state.error === undefined; i++) await settle();
    expect(String(d.state.error)).toMatch(/backend broke/);
    await settle();
    expect(store.gauge.held).toBe(0);
    expect(d.got.length).toBeLessThanOrEqual(2); // nothing at or after the broken chunk
  });
});
