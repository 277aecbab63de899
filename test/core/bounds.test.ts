import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { lastValueFrom, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { HeldBytes, MiB, createDemand, createMemoryStore, openStore } from '../../src/index.js';
import { bytes, put, tick, wrapStore } from '../helpers/core.js';

const chunkSize = 1 * MiB;

/** Puts that take a while: the source is far faster than storage. */
const slowPuts = () =>
  wrapStore(createMemoryStore(), async (op, key) => {
    if (op === 'put' && key.startsWith('chunks/')) await tick(1);
  });

/** Yields 256 MiB in 64 KiB pieces as fast as it is asked; counts what it produced. */
function fastSource(total: number) {
  const piece = bytes(64 * 1024, 7);
  const state = { produced: 0 };
  async function* gen() {
    while (state.produced < total) {
      state.produced += piece.byteLength;
      yield piece;
    }
  }
  return { gen: gen(), state };
}

describe('memory bound', () => {
  for (const n of [1, 4]) {
    it(`an upload from a source far faster than storage holds ≤ (N+1) × chunkSize (N=${n})`, async () => {
      const store = openStore({ chunkStore: slowPuts(), chunkSize, uploadConcurrency: n });
      const total = 256 * MiB;
      const { gen, state } = fastSource(total);
      let maxAhead = 0;
      let stored = 0;
      const last = await lastValueFrom(
        store.upload(gen, { name: 'big.bin' }).pipe(
          tap((e) => {
            if (e.type !== 'progress') return;
            stored = e.bytes;
            // Pulled only as fast as stored: what was read never runs far ahead of what is stored.
            maxAhead = Math.max(maxAhead, state.produced - stored);
          }),
        ),
      );
      expect(last.type).toBe('committed');
      expect(store.gauge.peak).toBeLessThanOrEqual((n + 1) * chunkSize);
      expect(store.gauge.peak).toBeGreaterThanOrEqual(n * chunkSize); // the window was used
      expect(maxAhead).toBeLessThanOrEqual((n + 1) * chunkSize);
      expect(store.gauge.held).toBe(0);
    });
  }

  it('a download into a consumer that drains slowly holds ≤ (N+1) × chunkSize', async () => {
    const n = 4;
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize, downloadConcurrency: n });
    const file = await put(store, bytes(40 * chunkSize + 5));
    const gauge = new HeldBytes();
    const { demand$, request } = createDemand();
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      store.download(file.id, { demand: demand$, gauge }).subscribe({
        next: (chunk) => {
          received += chunk.byteLength;
          // The consumer keeps each chunk a while, then asks for the next one.
          setTimeout(() => request(1), 2);
        },
        error: reject,
        complete: resolve,
      });
      request(1);
    });
    expect(received).toBe(file.size);
    expect(gauge.peak).toBeLessThanOrEqual((n + 1) * chunkSize);
    expect(gauge.peak).toBeGreaterThanOrEqual(n * chunkSize);
    expect(store.gauge.held).toBe(0);
  });

  it('store.readable() piped into a slow writable stays within the same bound', async () => {
    const n = 3;
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize, downloadConcurrency: n });
    const file = await put(store, bytes(30 * chunkSize));
    let written = 0;
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _enc, cb) {
        written += chunk.length;
        setTimeout(cb, 2);
      },
    });
    await pipeline(store.readable(file.id), slow);
    expect(written).toBe(file.size);
    // Each read() acknowledges the chunk handed on before it and asks for one more.
    expect(store.gauge.peak).toBeLessThanOrEqual((n + 1) * chunkSize);
    expect(store.gauge.peak).toBeGreaterThanOrEqual(n * chunkSize);
    expect(store.gauge.held).toBe(0);
  });
});
