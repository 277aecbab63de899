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

  it('a consumer that stops acknowledging stops the reads at (N+1) slabs', async () => {
    const inner = createMemoryStore();
    const seed = openStore({ chunkStore: inner, chunkSize });
    const file = await put(seed, bytes(CHUNKS * chunkSize, 4));
    const { store: logged, log } = loggingStore(inner);
    const n = 2;
    const store = openStore({ chunkStore: logged, chunkSize, downloadConcurrency: n });
    const { demand$, request } = createDemand();
    let delivered = 0;
    const sub = store.download(file.id, { demand: demand$, lend: true }).subscribe({ next: () => delivered++ });
    request(1);
    for (let i = 0; i < 20; i++) await tick(5); // far longer than the reads take
    expect(delivered).toBe(1);
    // One delivered and unacknowledged + n read ahead = n + 1 slabs; no read beyond them.
    expect(store.gauge.held).toBe((n + 1) * chunkSize);
    expect(log.filter((l) => l.startsWith('get ') && !l.includes('meta:')).length).toBe(n + 1);
    sub.unsubscribe();
    expect(store.gauge.held).toBe(0);
    await store.close();
  });
});
