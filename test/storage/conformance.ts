import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChunkStore, StoredObject } from '../../src/storage/types.js';

export interface ConformanceSubject {
  store: ChunkStore;
  cleanup(): Promise<void>;
}

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function collect(it: AsyncIterable<StoredObject>): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const o of it) out.push(o);
  return out;
}

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return (err as { code?: string }).code ?? `uncoded ${(err as Error)?.name}: ${(err as Error)?.message}`;
  }
  return 'resolved';
}

async function modifiedOf(store: ChunkStore, key: string): Promise<Date> {
  const found = (await collect(store.list(key))).find((o) => o.key === key);
  if (!found) throw new Error(`${key} not listed`);
  return found.modified;
}

/**
 * The ChunkStore contract (src/storage/types.ts), run unchanged against every backend. Each
 * test uses its own key prefix, so one store instance serves the whole suite.
 */
export function describeChunkStoreConformance(name: string, factory: () => Promise<ConformanceSubject>): void {
  describe(`ChunkStore conformance: ${name}`, () => {
    let subject: ConformanceSubject;
    let store: ChunkStore;
    beforeAll(async () => {
      subject = await factory();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.cleanup();
    });

    it('round-trips small, empty and 1 MiB objects', async () => {
      const big = randomBytes(1024 * 1024);
      expect(await store.put('rt/small', bytes('hello'))).toEqual({ created: true });
      expect(await store.put('rt/empty', new Uint8Array(0))).toEqual({ created: true });
      expect(await store.put('rt/big.bin', big)).toEqual({ created: true });
      expect(text(await store.get('rt/small'))).toBe('hello');
      expect((await store.get('rt/empty')).byteLength).toBe(0);
      expect(Buffer.from(await store.get('rt/big.bin')).equals(big)).toBe(true);
      expect(await store.has('rt/big.bin')).toBe(true);
    });

    it('keeps its own copy: mutating the buffers passed in or returned changes nothing stored', async () => {
      const data = bytes('abcdef');
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

    it('get({ into }) reads into the caller’s buffer, or returns the whole object as its own', async () => {
      const data = randomBytes(1000);
      await store.put('into/k', data);
      for (const into of [new Uint8Array(2000), Buffer.from(new SharedArrayBuffer(1001)), new Uint8Array(10)]) {
        into.fill(0);
        const got = await store.get('into/k', { into });
        if (got.buffer === into.buffer) {
          // In place: the object's first into.byteLength bytes, at the start of the buffer.
          expect(got.byteOffset).toBe(into.byteOffset);
          expect(Buffer.from(got).equals(data.subarray(0, Math.min(1000, into.byteLength)))).toBe(true);
        } else expect(Buffer.from(got).equals(data)).toBe(true);
      }
      expect(await codeOf(store.get('into/missing', { into: new Uint8Array(8) }))).toBe('not_found');
      // `into` does not apply to ranges.
      expect(text(await store.get('into/k', { range: { start: 2, end: 4 }, into: new Uint8Array(100) }))).toBe(text(data.subarray(2, 5)));
    });

    it('a deferred put is durable and visible once flushed (at once on a store without flush)', async () => {
      const data = randomBytes(5000);
      await store.put('defer/a', data, { defer: true, ifNotExists: true });
      await store.put('defer/a', data, { defer: true, ifNotExists: true }); // the same chunk twice: fine
      if (store.flush) {
        expect(await store.has('defer/a')).toBe(false); // nothing unflushed is ever visible
        expect(await codeOf(store.get('defer/a'))).toBe('not_found');
        await store.flush(['defer/a', 'defer/never-put']); // keys not staged are left as they are
      }
      expect(Buffer.from(await store.get('defer/a')).equals(data)).toBe(true);
      expect((await collect(store.list('defer/'))).map((o) => o.key)).toEqual(['defer/a']);
      // An existing object is touched, not staged: visible without a flush.
      expect(await store.put('defer/a', randomBytes(10), { defer: true, ifNotExists: true })).toEqual({ created: false });
      expect(Buffer.from(await store.get('defer/a')).equals(data)).toBe(true);
      await store.flush?.(['defer/a']);
      expect(Buffer.from(await store.get('defer/a')).equals(data)).toBe(true);
    });

    it('replaces an existing object on a plain put', async () => {
      await store.put('ow/k', bytes('first version'));
      await store.put('ow/k', bytes('second'));
      expect(text(await store.get('ow/k'))).toBe('second');
      expect((await collect(store.list('ow/'))).map((o) => o.size)).toEqual([6]);
    });

    it('ifNotExists creates a missing object and leaves an existing one byte-for-byte', async () => {
      expect(await store.put('ine/k', bytes('original'), { ifNotExists: true })).toEqual({ created: true });
      expect(await store.put('ine/k', bytes('imposter'), { ifNotExists: true })).toEqual({ created: false });
      expect(await store.put('ine/k', bytes('longer imposter'), { ifNotExists: true })).toEqual({ created: false });
      expect(text(await store.get('ine/k'))).toBe('original');
    });

    it('ifNotExists on an existing object refreshes its modified time (gc grace relies on it)', async () => {
      await store.put('touch/same', bytes('chunk'));
      await store.put('touch/other', bytes('chunk'));
      const before = await modifiedOf(store, 'touch/same');
      const otherBefore = await modifiedOf(store, 'touch/other');
      // Backends may keep whole seconds (S3): a gap over one second makes the order observable.
      await sleep(1100);
      expect(await store.put('touch/same', bytes('chunk'), { ifNotExists: true })).toEqual({ created: false });
      const after = await modifiedOf(store, 'touch/same');
      expect(after.getTime()).toBeGreaterThan(before.getTime());
      // Only the key put is touched, and its bytes stay.
      expect((await modifiedOf(store, 'touch/other')).getTime()).toBe(otherBefore.getTime());
      expect(text(await store.get('touch/same'))).toBe('chunk');
    });

    it('a missing key: get rejects not_found, has is false', async () => {
      expect(await codeOf(store.get('missing/nothing-here'))).toBe('not_found');
      expect(await codeOf(store.get('missing/nothing-here', { range: { start: 0, end: 3 } }))).toBe('not_found');
      expect(await store.has('missing/nothing-here')).toBe(false);
    });

    it('reads inclusive ranges, clamping an end past the object', async () => {
      const data = randomBytes(1000);
      await store.put('range/k', data);
      const read = async (start: number, end: number) => Buffer.from(await store.get('range/k', { range: { start, end } }));
      expect((await read(10, 19)).equals(data.subarray(10, 20))).toBe(true);
      expect((await read(0, 0)).equals(data.subarray(0, 1))).toBe(true);
      expect((await read(999, 999)).equals(data.subarray(999))).toBe(true);
      expect((await read(0, 999)).equals(data)).toBe(true);
      expect((await read(900, 5000)).equals(data.subarray(900))).toBe(true);
    });

    it('delete removes an object and is idempotent', async () => {
      await store.put('del/k', bytes('x'));
      await store.delete('del/k');
      expect(await codeOf(store.get('del/k'))).toBe('not_found');
      expect(await store.has('del/k')).toBe(false);
      await store.delete('del/k');
      await store.delete('del/never-existed');
      expect(await collect(store.list('del/'))).toEqual([]);
    });

    it('lists exactly the keys starting with a prefix, nested, with size and time', async () => {
      const keys = ['ls/a/b/1', 'ls/a/b/2', 'ls/a/c/3', 'ls/ab/4', 'ls/z'];
      const t0 = Date.now();
      for (const [i, k] of keys.entries()) await store.put(k, new Uint8Array(i + 1));
      const list = async (p: string) => (await collect(store.list(p))).map((o) => o.key).sort();
      expect(await list('ls/a/')).toEqual(['ls/a/b/1', 'ls/a/b/2', 'ls/a/c/3']);
      expect(await list('ls/a/b/')).toEqual(['ls/a/b/1', 'ls/a/b/2']);
      expect(await list('ls/a')).toEqual(['ls/a/b/1', 'ls/a/b/2', 'ls/a/c/3', 'ls/ab/4']);
      expect(await list('ls/')).toEqual(keys);
      expect(await list('ls/a/b/1')).toEqual(['ls/a/b/1']);
      expect(await list('ls/nope/')).toEqual([]);
      expect(await list('')).toEqual(expect.arrayContaining(keys));
      const objects = await collect(store.list('ls/'));
      for (const o of objects) {
        expect(o.size).toBe(keys.indexOf(o.key) + 1);
        expect(o.modified).toBeInstanceOf(Date);
        // Clocks of a remote store may differ a little; a wrong unit or epoch would not.
        expect(Math.abs(o.modified.getTime() - t0)).toBeLessThan(10 * 60_000);
      }
    });

    it('lists a prefix holding more keys than one page', async () => {
      const keys = Array.from({ length: 150 }, (_, i) => `page/${String(i).padStart(2, '0').slice(0, 2)}/k${i}`);
      await runPool(keys, 16, (k) => store.put(k, bytes(k)));
      const listed = (await collect(store.list('page/'))).map((o) => o.key);
      expect(listed).toHaveLength(keys.length);
      expect(new Set(listed)).toEqual(new Set(keys));
    });

    it('rejects invalid keys with bad_request in every call', async () => {
      for (const key of ['../x', '/abs', '', 'a//b', 'a/./b', 'a/../b', 'trailing/']) {
        expect(await codeOf(() => store.put(key, bytes('x'))), `put ${key}`).toBe('bad_request');
        expect(await codeOf(() => store.put(key, bytes('x'), { ifNotExists: true })), `put ifNotExists ${key}`).toBe('bad_request');
        expect(await codeOf(() => store.get(key)), `get ${key}`).toBe('bad_request');
        expect(await codeOf(() => store.has(key)), `has ${key}`).toBe('bad_request');
        expect(await codeOf(() => store.delete(key)), `delete ${key}`).toBe('bad_request');
      }
    });

    it('an aborted signal rejects every call with aborted and leaves no object', async () => {
      await store.put('abort/existing', bytes('kept'));
      const ac = new AbortController();
      ac.abort(new Error('stop'));
      const signal = ac.signal;
      expect(await codeOf(store.put('abort/new', bytes('x'), { signal }))).toBe('aborted');
      expect(await codeOf(store.put('abort/new2', bytes('x'), { signal, ifNotExists: true }))).toBe('aborted');
      expect(await codeOf(store.get('abort/existing', { signal }))).toBe('aborted');
      expect(await codeOf(store.has('abort/existing', { signal }))).toBe('aborted');
      expect(await codeOf(store.delete('abort/existing', { signal }))).toBe('aborted');
      expect(await codeOf(collect(store.list('abort/', { signal })))).toBe('aborted');
      expect(await store.has('abort/new')).toBe(false);
      expect(await store.has('abort/new2')).toBe(false);
      expect(text(await store.get('abort/existing'))).toBe('kept');
    });

    it('an abort while a put is under way leaves the whole object or none, never a part', async () => {
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

    it('serves concurrent puts and gets of many keys, and concurrent ifNotExists of one key', async () => {
      const items = Array.from({ length: 48 }, (_, i) => ({ key: `conc/k${i}`, data: randomBytes(1000 + i * 97) }));
      await Promise.all(items.map((it) => store.put(it.key, it.data)));
      const got = await Promise.all(items.map((it) => store.get(it.key)));
      got.forEach((g, i) => expect(Buffer.from(g).equals(items[i]!.data)).toBe(true));
      const same = randomBytes(64 * 1024);
      const results = await Promise.all(Array.from({ length: 12 }, () => store.put('conc/same', same, { ifNotExists: true })));
      expect(results.filter((r) => r.created).length).toBeGreaterThanOrEqual(1);
      if (store.capabilities.conditionalPut) expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(Buffer.from(await store.get('conc/same')).equals(same)).toBe(true);
    });
  });
}

async function runPool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
