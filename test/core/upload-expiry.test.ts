import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { KiB, openStore } from '../../src/index.js';
import { createMemoryStore } from '../../src/storage/memory.js';
import { fakeClock } from '../helpers/clock.js';
import { bytes, uploadCutAfter } from '../helpers/core.js';

const chunkSize = 64 * KiB;
const TTL = 60_000;

/** A store on a fake clock with one unfinished upload of `data` (cut after 2 chunks). */
async function unfinished() {
  const clock = fakeClock();
  const store = openStore({ chunkStore: createMemoryStore(), chunkSize, uploadTtlMs: TTL, now: clock.now });
  const data = bytes(5 * chunkSize + 3, 13);
  const uploadId = await uploadCutAfter(store, data, 'late.bin', 2);
  return { clock, store, data, uploadId };
}

describe('upload expiry: one rule in the engine', () => {
  it('a resume past `expires` fails with expired (410) and leaves the session as it was; gc then removes it', async () => {
    const { clock, store, data, uploadId } = await unfinished();
    const before = await store.uploadStatus(uploadId);
    clock.advance(TTL);
    const asked: number[] = [];
    const resumed = lastValueFrom(store.upload((offset) => (asked.push(offset), data.subarray(offset)), { uploadId }));
    await expect(resumed).rejects.toMatchObject({ code: 'expired', status: 410 });
    expect(asked).toEqual([]); // refused before the source is opened
    // Not refreshed by the refused resume: still expired, still what it was.
    expect(await store.uploadStatus(uploadId)).toEqual(before);
    expect((await store.listUploads()).find((u) => u.uploadId === uploadId)).toMatchObject({ expired: true });
    expect(await store.gc({ graceMs: 0 })).toMatchObject({ expiredUploads: 1 });
    await expect(store.uploadStatus(uploadId)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('a resume just before `expires` works and refreshes it', async () => {
    const { clock, store, data, uploadId } = await unfinished();
    clock.advance(TTL - 1);
    const events = await lastValueFrom(store.upload((offset) => data.subarray(offset), { uploadId }).pipe(toArray()));
    expect(events.at(-1)).toMatchObject({ type: 'committed', file: { size: data.length } });
  });

  it('a resume that refreshed the expiry and was cut again keeps the new expiry', async () => {
    const { clock, store, data, uploadId } = await unfinished();
    clock.advance(TTL - 1);
    const controller = new AbortController();
    await new Promise<void>((resolve) =>
      store
        .upload((offset) => data.subarray(offset), { uploadId, signal: controller.signal })
        .subscribe({
          next: (e) => e.type === 'started' && controller.abort(),
          error: () => resolve(),
          complete: () => resolve(),
        }),
    );
    clock.advance(TTL - 1); // past the first expiry, within the refreshed one
    const status = await store.uploadStatus(uploadId);
    expect(Date.parse(status.expires)).toBeGreaterThan(clock.now());
    const events = await lastValueFrom(store.upload((offset) => data.subarray(offset), { uploadId }).pipe(toArray()));
    expect(events.at(-1)).toMatchObject({ type: 'committed' });
  });
});
