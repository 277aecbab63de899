import { expect, it } from 'vitest';
import { codeOf, listed, text, utf8, type Subject } from './shared.js';

/** `move` (what quarantine uses): the object is under its new key only, the old key is free for a put with ifNotExists. */
export function move(subject: Subject): void {
  it('moves an object to another key: gone from the old one, whole under the new one', async () => {
    const { store } = subject();
    expect(typeof store.move).toBe('function');
    await store.put('mv/a/obj', utf8('the bytes'));
    await store.move!('mv/a/obj', 'mv/aside/obj.1');
    expect(await store.has('mv/a/obj')).toBe(false);
    expect(await codeOf(store.get('mv/a/obj'))).toBe('not_found');
    expect(text(await store.get('mv/aside/obj.1'))).toBe('the bytes');
    expect((await listed(store.list('mv/'))).map((o) => o.key)).toEqual(['mv/aside/obj.1']);
  });

  it('frees the old key: a put with ifNotExists creates it again', async () => {
    const { store } = subject();
    await store.put('mv2/k', utf8('bad'));
    await store.move!('mv2/k', 'mv2/q/k');
    expect(await store.put('mv2/k', utf8('good'), { ifNotExists: true })).toEqual({ created: true });
    expect(text(await store.get('mv2/k'))).toBe('good');
    expect(text(await store.get('mv2/q/k'))).toBe('bad');
  });

  it('rejects a missing source with not_found and an invalid key with bad_request', async () => {
    const { store } = subject();
    expect(await codeOf(store.move!('mv3/none', 'mv3/q/none'))).toBe('not_found');
    expect(await codeOf(store.move!('../x', 'mv3/q/x'))).toBe('bad_request');
  });
}
