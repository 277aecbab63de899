import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { codeOf, listed, type Subject } from './shared.js';

/** `put(…, { defer })` on a store without `flush`: the option is ignored, the put is durable at once. */
export function deferIgnored(subject: Subject): void {
  it('a deferred put on a store without flush is visible at once', async () => {
    const { store } = subject();
    expect('flush' in store && store.flush !== undefined).toBe(false);
    const data = randomBytes(5000);
    await store.put('defer/a', data, { defer: true, ifNotExists: true });
    await store.put('defer/a', data, { defer: true, ifNotExists: true }); // the same chunk twice: fine
    expect(Buffer.from(await store.get('defer/a')).equals(data)).toBe(true);
    expect((await listed(store.list('defer/'))).map((o) => o.key)).toEqual(['defer/a']);
    expect(await store.put('defer/a', randomBytes(10), { defer: true, ifNotExists: true })).toEqual({ created: false });
    expect(Buffer.from(await store.get('defer/a')).equals(data)).toBe(true);
  });
}

/** `flush`: deferred puts are staged, neither durable nor visible until flushed, and many flush at once. */
export function flush(subject: Subject): void {
  it('a deferred put is invisible until flushed, then durable and visible', async () => {
    const { store } = subject();
    const data = randomBytes(5000);
    await store.put('defer/a', data, { defer: true, ifNotExists: true });
    await store.put('defer/a', data, { defer: true, ifNotExists: true }); // the same chunk twice: fine
    expect(await store.has('defer/a')).toBe(false); // nothing unflushed is ever visible
    expect(await codeOf(store.get('defer/a'))).toBe('not_found');
    await store.flush!(['defer/a', 'defer/never-put']); // keys not staged are left as they are
    expect(Buffer.from(await store.get('defer/a')).equals(data)).toBe(true);
    expect((await listed(store.list('defer/'))).map((o) => o.key)).toEqual(['defer/a']);
    // An existing object is touched, not staged: visible without a flush.
    expect(await store.put('defer/a', randomBytes(10), { defer: true, ifNotExists: true })).toEqual({ created: false });
    expect(Buffer.from(await store.get('defer/a')).equals(data)).toBe(true);
    await store.flush!(['defer/a']);
    expect(Buffer.from(await store.get('defer/a')).equals(data)).toBe(true);
  });
}
