import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { modifiedOf, text, utf8, type Subject } from './shared.js';

/** Over a second (S3 keeps whole seconds), and far under the listing test's tolerance of a clock's drift. */
const AGE_MS = 2000;

/** `put(…, { ifNotExists })`: every backend keeps the contract, race-free or not. */
export function ifNotExists(subject: Subject): void {
  it('ifNotExists creates a missing object and leaves an existing one byte-for-byte', async () => {
    const { store } = subject();
    expect(await store.put('ine/k', utf8('original'), { ifNotExists: true })).toEqual({ created: true });
    expect(await store.put('ine/k', utf8('imposter'), { ifNotExists: true })).toEqual({ created: false });
    expect(await store.put('ine/k', utf8('longer imposter'), { ifNotExists: true })).toEqual({ created: false });
    expect(text(await store.get('ine/k'))).toBe('original');
  });

  it('ifNotExists on an existing object refreshes its modified time (gc grace relies on it)', async () => {
    const s = subject();
    const { store } = s;
    await store.put('touch/same', utf8('chunk'));
    await store.put('touch/other', utf8('chunk'));
    // Time passes for touch/same: a backend that cannot be aged gets it for real.
    if (s.age) await s.age('touch/same', AGE_MS);
    else await sleep(AGE_MS);
    const before = await modifiedOf(store, 'touch/same');
    const otherBefore = await modifiedOf(store, 'touch/other');
    expect(await store.put('touch/same', utf8('chunk'), { ifNotExists: true })).toEqual({ created: false });
    const after = await modifiedOf(store, 'touch/same');
    expect(after.getTime()).toBeGreaterThan(before.getTime());
    // Only the key put is touched, and its bytes stay.
    expect((await modifiedOf(store, 'touch/other')).getTime()).toBe(otherBefore.getTime());
    expect(text(await store.get('touch/same'))).toBe('chunk');
  });

  it('concurrent ifNotExists puts of one key: at least one creates, the bytes are whole', async () => {
    const { store } = subject();
    const same = randomBytes(64 * 1024);
    const results = await Promise.all(Array.from({ length: 12 }, () => store.put('conc/same', same, { ifNotExists: true })));
    expect(results.filter((r) => r.created).length).toBeGreaterThanOrEqual(1);
    expect(Buffer.from(await store.get('conc/same')).equals(same)).toBe(true);
  });
}

/** `capabilities.conditionalPut`: the backend itself enforces ifNotExists. */
export function conditionalPut(subject: Subject): void {
  it('concurrent ifNotExists puts of one key: exactly one creates', async () => {
    const { store } = subject();
    const same = randomBytes(64 * 1024);
    const results = await Promise.all(Array.from({ length: 12 }, () => store.put('cond/same', same, { ifNotExists: true })));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(Buffer.from(await store.get('cond/same')).equals(same)).toBe(true);
  });
}
