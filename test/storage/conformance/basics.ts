import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { codeOf, listed, text, utf8, type Subject } from './shared.js';

/** put, get, has, delete, keys and signals: what every backend does. */
export function basics(subject: Subject): void {
  it('round-trips small, empty and 1 MiB objects', async () => {
    const { store } = subject();
    const big = randomBytes(1024 * 1024);
    expect(await store.put('rt/small', utf8('hello'))).toEqual({ created: true });
    expect(await store.put('rt/empty', new Uint8Array(0))).toEqual({ created: true });
    expect(await store.put('rt/big.bin', big)).toEqual({ created: true });
    expect(text(await store.get('rt/small'))).toBe('hello');
    expect((await store.get('rt/empty')).byteLength).toBe(0);
    expect(Buffer.from(await store.get('rt/big.bin')).equals(big)).toBe(true);
    expect(await store.has('rt/big.bin')).toBe(true);
  });

  it('keeps its own copy: mutating the buffers passed in or returned changes nothing stored', async () => {
    const { store } = subject();
    const data = utf8('abcdef');
    await store.put('copy/x', data);
    data[0] = 0x5a;
    const got = await store.get('copy/x');
    got[1] = 0x5a;
    expect(text(await store.get('copy/x'))).toBe('abcdef');
    // Node Buffers too: Buffer.prototype.slice returns a view, not a copy.
    const buf = Buffer.from('ghijkl');
    await store.put('copy/b', buf);
    buf[0] = 0x5a;
    const back = await store.get('copy/b');
    back.fill(0x5a);
    expect(text(await store.get('copy/b'))).toBe('ghijkl');
  });

  it('replaces an existing object on a plain put', async () => {
    const { store } = subject();
    await store.put('ow/k', utf8('first version'));
    await store.put('ow/k', utf8('second'));
    expect(text(await store.get('ow/k'))).toBe('second');
    expect((await listed(store.list('ow/'))).map((o) => o.size)).toEqual([6]);
  });

  it('a missing key: get rejects not_found, has is false', async () => {
    const { store } = subject();
    expect(await codeOf(store.get('missing/nothing-here'))).toBe('not_found');
    expect(await codeOf(store.get('missing/nothing-here', { range: { start: 0, end: 3 } }))).toBe('not_found');
    expect(await store.has('missing/nothing-here')).toBe(false);
  });

  it('delete removes an object and is idempotent', async () => {
    const { store } = subject();
    await store.put('del/k', utf8('x'));
    await store.delete('del/k');
    expect(await codeOf(store.get('del/k'))).toBe('not_found');
    expect(await store.has('del/k')).toBe(false);
    await store.delete('del/k');
    await store.delete('del/never-existed');
    expect(await listed(store.list('del/'))).toEqual([]);
  });

  it('rejects invalid keys with bad_request in every call', async () => {
    const { store } = subject();
    for (const key of ['../x', '/abs', '', 'a//b', 'a/./b', 'a/../b', 'trailing/']) {
      expect(await codeOf(() => store.put(key, utf8('x'))), `put ${key}`).toBe('bad_request');
      expect(await codeOf(() => store.put(key, utf8('x'), { ifNotExists: true })), `put ifNotExists ${key}`).toBe('bad_request');
      expect(await codeOf(() => store.get(key)), `get ${key}`).toBe('bad_request');
      expect(await codeOf(() => store.has(key)), `has ${key}`).toBe('bad_request');
      expect(await codeOf(() => store.delete(key)), `delete ${key}`).toBe('bad_request');
    }
  });

  it('an aborted signal rejects every call with aborted and leaves no object', async () => {
    const { store } = subject();
    await store.put('abort/existing', utf8('kept'));
    const ac = new AbortController();
    ac.abort(new Error('stop'));
    const signal = ac.signal;
    expect(await codeOf(store.put('abort/new', utf8('x'), { signal }))).toBe('aborted');
    expect(await codeOf(store.put('abort/new2', utf8('x'), { signal, ifNotExists: true }))).toBe('aborted');
    expect(await codeOf(store.get('abort/existing', { signal }))).toBe('aborted');
    expect(await codeOf(store.has('abort/existing', { signal }))).toBe('aborted');
    expect(await codeOf(store.delete('abort/existing', { signal }))).toBe('aborted');
    expect(await codeOf(listed(store.list('abort/', { signal })))).toBe('aborted');
    expect(await store.has('abort/new')).toBe(false);
    expect(await store.has('abort/new2')).toBe(false);
    expect(text(await store.get('abort/existing'))).toBe('kept');
  });

  it('an abort while a put is under way leaves the whole object or none, never a part', async () => {
    const { store } = subject();
    const data = randomBytes(1024 * 1024);
    for (let i = 0; i < 4; i++) {
      const ac = new AbortController();
      const pending = store.put(`abort-late/k${i}`, data, { signal: ac.signal, ifNotExists: i % 2 === 1 });
      await Promise.resolve();
      ac.abort();
      const code = await codeOf(pending);
      expect(['aborted', 'resolved']).toContain(code);
      const got = await store.get(`abort-late/k${i}`).catch((err) => err as Error);
      if (got instanceof Uint8Array) expect(Buffer.from(got).equals(data)).toBe(true);
      else expect((got as { code?: string }).code).toBe('not_found');
      if (code === 'resolved') expect(got).toBeInstanceOf(Uint8Array);
    }
  });

  it('serves concurrent puts and gets of many keys', async () => {
    const { store } = subject();
    const items = Array.from({ length: 48 }, (_, i) => ({ key: `conc/k${i}`, data: randomBytes(1000 + i * 97) }));
    await Promise.all(items.map((it) => store.put(it.key, it.data)));
    const got = await Promise.all(items.map((it) => store.get(it.key)));
    got.forEach((g, i) => expect(Buffer.from(g).equals(items[i]!.data)).toBe(true));
  });
}
