import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { KiB, createDemand, createMemoryStore, openStore } from '../../src/index.js';
import { cachedSlabBytes } from '../../src/internal/slabs.js';
import { bytes, collect, put } from '../helpers/core.js';

const chunkSize = 64 * KiB;

describe('lent buffers (download { lend: true })', () => {
  it('a lent chunk stays intact until acknowledged, and is reused after', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize, downloadConcurrency: 2 });
    const data = Buffer.from(bytes(12 * chunkSize, 5));
    const file = await put(store, data);
    const { demand$, request } = createDemand();
    const seen: { view: Uint8Array; copy: Buffer; offset: number }[] = [];
    let offset = 0;
    await new Promise<void>((resolve, reject) => {
      store.download(file.id, { lend: true, demand: demand$ }).subscribe({
        next: (c) => {
          const s = { view: c, copy: Buffer.from(c), offset };
          seen.push(s);
          expect(s.copy.equals(data.subarray(offset, offset + c.byteLength))).toBe(true);
          offset += c.byteLength;
          // Held across turns of the event loop while other reads complete: still intact when acknowledged.
          setTimeout(() => {
            if (!Buffer.from(s.view).equals(s.copy)) reject(new Error(`chunk at ${s.offset} changed while lent`));
            request(1); // acknowledges it: its buffer may now be reused
          }, 2);
        },
        error: reject,
        complete: resolve,
      });
      request(1);
    });
    expect(offset).toBe(data.length);
    // Buffers were reused: 12 chunks went through at most concurrency + 1 distinct slabs.
    expect(new Set(seen.map((s) => s.view.buffer)).size).toBeLessThanOrEqual(3);
    expect(store.gauge.held).toBe(0);
    await store.close();
  });

  it('a chunk still lent when the stream ends is never reused (a socket may still be writing it)', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize, downloadConcurrency: 3 });
    const a = await put(store, bytes(8 * chunkSize, 1), 'a');
    const b = await put(store, bytes(8 * chunkSize, 2), 'b');
    const { demand$, request } = createDemand();
    const held = await new Promise<{ view: Uint8Array; copy: Buffer }>((resolve, reject) => {
      const sub = store.download(a.id, { lend: true, demand: demand$ }).subscribe({
        next: (c) => {
          const kept = { view: c, copy: Buffer.from(c) };
          sub.unsubscribe(); // ends while the chunk is lent, never acknowledged
          resolve(kept);
        },
        error: reject,
      });
      request(1);
    });
    // Other transfers run and take buffers from the process-wide cache: not that one.
    for (let i = 0; i < 3; i++)
      expect((await collect(store.download(b.id, { lend: false }))).equals(Buffer.from(bytes(8 * chunkSize, 2)))).toBe(true);
    for (let i = 0; i < 3; i++) await lastValueFrom(store.download(b.id, { lend: true }).pipe(toArray()));
    expect(Buffer.from(held.view).equals(held.copy)).toBe(true);
    expect(cachedSlabBytes()).toBeGreaterThan(0); // acknowledged ones were kept for reuse
    expect(store.gauge.held).toBe(0);
    await store.close();
  });

  it('without lend, every chunk is the consumer’s own copy', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize, downloadConcurrency: 2 });
    const data = Buffer.from(bytes(6 * chunkSize + 3, 9));
    const file = await put(store, data);
    const chunks = await lastValueFrom(store.download(file.id).pipe(toArray()));
    expect(new Set(chunks.map((c) => c.buffer)).size).toBe(chunks.length);
    expect(chunks.every((c) => !(c.buffer instanceof SharedArrayBuffer))).toBe(true);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
    await store.close();
  });
});
