import { getEventListeners } from 'node:events';
import { readdirSync } from 'node:fs';
import { lastValueFrom, take, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { KiB, openStore } from '../../src/index.js';
import { bytes, put, tempDir } from '../helpers/core.js';
import { eventually } from '../helpers/eventually.js';

const chunkSize = 64 * KiB;
const openFds = () => readdirSync('/proc/self/fd').length;

/** The fd count once it settled back to `target` (aborted reads close their handles asynchronously), or what it is after the wait. */
async function settledFds(target: number): Promise<number> {
  const settled = () => {
    const n = openFds();
    return n <= target && n;
  };
  return eventually(settled, `the open file descriptors back to ${target}`, { timeoutMs: 5000 }).catch(() => openFds());
}

describe('cancellation', () => {
  it('1000 downloads aborted mid-way leave the open file descriptor count where it started', async () => {
    const store = openStore({ dir: await tempDir(), chunkSize, downloadConcurrency: 4 });
    const file = await put(store, bytes(16 * chunkSize));
    const before = openFds();
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          if (i % 2 === 0) {
            // Unsubscribe after the first chunk: the other in-flight reads are cancelled.
            const got = await lastValueFrom(store.download(file.id).pipe(take(1), toArray()));
            expect(got).toHaveLength(1);
          } else {
            const controller = new AbortController();
            const err = await new Promise<unknown>((resolve) =>
              store.download(file.id, { signal: controller.signal }).subscribe({
                next: () => controller.abort(),
                error: resolve,
                complete: () => resolve(undefined),
              }),
            );
            expect(err).toMatchObject({ code: 'aborted' });
            expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
          }
        }),
      );
    }
    expect(await settledFds(before)).toBe(before);
    expect(store.gauge.held).toBe(0);
  });

  it('an aborted upload stops writing, removes its temp files and leaves no listener', async () => {
    const dir = await tempDir();
    const store = openStore({ dir, chunkSize, uploadConcurrency: 4 });
    const controller = new AbortController();
    // Hash threads are the process's, started on first use and kept (like libuv's thread pool):
    // count from after they exist, so what remains is what the aborted upload left.
    await put(openStore({ dir: await tempDir(), chunkSize }), bytes(4 * chunkSize, 3), 'warm-up');
    const before = openFds();
    const err = await new Promise<unknown>((resolve) =>
      store.upload(bytes(64 * chunkSize), { name: 'x', signal: controller.signal }).subscribe({
        next: (e) => e.type === 'progress' && e.chunks >= 3 && controller.abort(),
        error: resolve,
        complete: () => resolve(undefined),
      }),
    );
    expect(err).toMatchObject({ code: 'aborted' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(await settledFds(before)).toBe(before);
    await eventually(() => readdirSync(`${dir}/tmp`).length === 0, 'the aborted upload’s temp files removed');
    expect(await store.list()).toEqual([]);
  });

  it('close() aborts transfers in flight and refuses new ones', async () => {
    const store = openStore({ dir: await tempDir(), chunkSize });
    const file = await put(store, bytes(8 * chunkSize));
    const pending = lastValueFrom(store.upload(bytes(32 * chunkSize), { name: 'y' }));
    await store.close();
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
    expect(() => store.download(file.id)).toThrow(expect.objectContaining({ code: 'aborted' }));
  });
});

describe('listeners', () => {
  it('a transfer with many chunks in flight raises no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const store = openStore({ dir: await tempDir(), chunkSize, downloadConcurrency: 32, uploadConcurrency: 32 });
      const file = await put(store, bytes(64 * chunkSize));
      const got = await lastValueFrom(store.download(file.id).pipe(toArray()));
      expect(got).toHaveLength(64);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on process.nextTick
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });
});
