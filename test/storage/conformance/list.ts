import { expect, it } from 'vitest';
import { listed, runPool, utf8, type Subject } from './shared.js';

/** `list(prefix)`: every key under a prefix, with size and modified time, across pages. */
export function list(subject: Subject): void {
  it('lists exactly the keys starting with a prefix, nested, with size and time', async () => {
    const { store } = subject();
    const keys = ['ls/a/b/1', 'ls/a/b/2', 'ls/a/c/3', 'ls/ab/4', 'ls/z'];
    const t0 = Date.now();
    for (const [i, k] of keys.entries()) await store.put(k, new Uint8Array(i + 1));
    const names = async (p: string) => (await listed(store.list(p))).map((o) => o.key).sort();
    expect(await names('ls/a/')).toEqual(['ls/a/b/1', 'ls/a/b/2', 'ls/a/c/3']);
    expect(await names('ls/a/b/')).toEqual(['ls/a/b/1', 'ls/a/b/2']);
    expect(await names('ls/a')).toEqual(['ls/a/b/1', 'ls/a/b/2', 'ls/a/c/3', 'ls/ab/4']);
    expect(await names('ls/')).toEqual(keys);
    expect(await names('ls/a/b/1')).toEqual(['ls/a/b/1']);
    expect(await names('ls/nope/')).toEqual([]);
    expect(await names('')).toEqual(expect.arrayContaining(keys));
    const objects = await listed(store.list('ls/'));
    for (const o of objects) {
      expect(o.size).toBe(keys.indexOf(o.key) + 1);
      expect(o.modified).toBeInstanceOf(Date);
      // Clocks of a remote store may differ a little (or a test's clock moved on); a wrong unit or epoch would not.
      expect(Math.abs(o.modified.getTime() - t0)).toBeLessThan(10 * 60_000);
    }
  });

  it('lists a prefix holding more keys than one page', async () => {
    const { store } = subject();
    const keys = Array.from({ length: 150 }, (_, i) => `page/${String(i).padStart(2, '0').slice(0, 2)}/k${i}`);
    await runPool(keys, 16, (k) => store.put(k, utf8(k)));
    const names = (await listed(store.list('page/'))).map((o) => o.key);
    expect(names).toHaveLength(keys.length);
    expect(new Set(names)).toEqual(new Set(keys));
  });
}
