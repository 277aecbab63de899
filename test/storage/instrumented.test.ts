// instrumentChunkStore times chunk reads; a read into a late buffer (lateInto) may wait for that
// buffer while the transfer's slabs are busy, and that wait is the caller's backpressure, not
// the store's latency. The clock is performance.now, stepped by hand: no real time is measured.
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createMemoryStore } from '../../src/index.js';
import { instrumentChunkStore, type OpOutcome } from '../../src/storage/instrumented.js';
import type { ChunkStore, GetOptions } from '../../src/storage/types.js';

afterEach(() => vi.restoreAllMocks());

/** A memory store whose chunk reads take `latency` ms before asking for the buffer, then 1 ms. */
function steppedStore(clock: { now: number }, latency: number, failAfterTake = false): ChunkStore {
  const inner = createMemoryStore();
  return {
    ...inner,
    async get(key: string, opts?: GetOptions): Promise<Uint8Array> {
      const data = await inner.get(key);
      clock.now += latency;
      const late = opts?.lateInto;
      const into = late ? await late.take() : new Uint8Array(data.byteLength);
      clock.now += 1;
      if (failAfterTake) throw new Error('read failed after the buffer came');
      into.set(data);
      return into.subarray(0, data.byteLength);
    },
    put: (key, data, o) => inner.put(key, data, o),
  };
}

describe('instrumentChunkStore', () => {
  const run = async (failAfterTake: boolean) => {
    const clock = { now: 1000 };
    vi.spyOn(performance, 'now').mockImplementation(() => clock.now);
    const reads: [OpOutcome, number][] = [];
    const store = instrumentChunkStore(steppedStore(clock, 30, failAfterTake), { read: (o, s) => reads.push([o, s]) });
    await store.put('chunks/ab/x', new Uint8Array([1, 2, 3]));
    const take = async () => {
      clock.now += 500; // every slab was busy for half a second
      return new Uint8Array(8);
    };
    const got = store.get('chunks/ab/x', { lateInto: { size: 8, take } });
    return { got, reads };
  };

  it('leaves the wait for a late buffer out of the read latency', async () => {
    const { got, reads } = await run(false);
    expect([...(await got)]).toEqual([1, 2, 3]);
    expect(reads).toHaveLength(1);
    expect(reads[0]![0]).toBe('ok');
    expect(reads[0]![1]).toBeCloseTo(0.031, 9); // 30 ms before the take, 1 ms after: not 0.531
  });

  it('also for a read that fails once its buffer came', async () => {
    const { got, reads } = await run(true);
    await expect(got).rejects.toThrow(/after the buffer came/);
    expect(reads).toEqual([['error', expect.closeTo(0.031, 9)]]);
  });

  it('times reads without a late buffer from start to end', async () => {
    const clock = { now: 0 };
    vi.spyOn(performance, 'now').mockImplementation(() => clock.now);
    const reads: number[] = [];
    const store = instrumentChunkStore(steppedStore(clock, 30), { read: (_o, s) => reads.push(s) });
    await store.put('chunks/ab/y', new Uint8Array([9]));
    expect([...(await store.get('chunks/ab/y'))]).toEqual([9]);
    expect(reads).toEqual([expect.closeTo(0.031, 9)]);
  });
});
