import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { CallOptions, ChunkStore, FileInfo, NameQuery, Store } from '../../../src/index.js';
import { openStore } from '../../../src/index.js';
import { CHUNK, bytes, collect } from '../../helpers/core.js';

export interface NamesSubject {
  /** A fresh ChunkStore per test (own directory, bucket prefix or memory). */
  chunkStore(): Promise<ChunkStore>;
  /** Names longer than this many bytes are refused by the backend (S3: 1024 minus its key prefix). */
  maxNameBytes?: number;
  /** Names beyond the plain ones this backend stores (s3rver keeps objects as files: no `..` or empty segments). */
  oddNames?: string[];
}

async function store(subject: NamesSubject): Promise<Store> {
  return openStore({ chunkStore: await subject.chunkStore(), chunkSize: CHUNK });
}

async function storeTo(s: Store, name: string, data: Uint8Array = bytes(10, name.length), o: { ifNoneMatch?: '*'; ifMatch?: string } = {}) {
  const last = await lastValueFrom(s.uploadTo(name, data, o));
  if (last.type !== 'committed') throw new Error(`ended with ${last.type}`);
  return last;
}

async function names(s: Store, query: Parameters<Store['listAll']>[0] = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const item of s.listAll(query)) out.push(item.folder ?? item.file.name);
  return out;
}

const byBytes = (list: string[]) => [...list].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

/** The name space's contract (src/storage/name-index.ts, src/engine/names.ts), run on every backend. */
export function describeNameSpaceConformance(backend: string, subject: NamesSubject): void {
  describe(`name space conformance: ${backend}`, () => {
    it('lists in ascending UTF-8 byte order, not JS string order', async () => {
      const s = await store(subject);
      const all = ['foo/a', 'foo+1/b', 'foo', 'é', 'z', 'Z', '\u{1F600}', '\uffff', '\ue000x', 'a b', 'a\u200bb'];
      for (const n of all) await storeTo(s, n);
      const listed = await names(s);
      expect(listed).toEqual(byBytes(all));
      expect(listed.indexOf('\uffff')).toBeLessThan(listed.indexOf('\u{1F600}')); // JS's sort has them the other way
      expect(await names(s, { delimiter: '/' })).toEqual(
        byBytes(['foo+1/', 'foo/', 'foo', 'é', 'z', 'Z', '\u{1F600}', '\uffff', '\ue000x', 'a b', 'a\u200bb']),
      );
      const page = await s.list({ delimiter: '/', limit: 3 });
      expect([...page.folders, ...page.files.map((f) => f.name)].sort()).toEqual(['Z', 'a b', 'a\u200bb'].sort());
    });

    it('folders come from any delimiter string, under a prefix, never stored', async () => {
      const s = await store(subject);
      for (const n of ['a--b--c', 'a--b--d', 'a--x', 'a-y', 'b--c', 'a--b--']) await storeTo(s, n);
      const page = await s.list({ prefix: 'a--', delimiter: '--' });
      expect(page).toMatchObject({ folders: ['a--b--'], next: null });
      expect(page.files.map((f) => f.name)).toEqual(['a--x']);
      expect(await names(s, { prefix: 'a--b--' })).toEqual(['a--b--', 'a--b--c', 'a--b--d']);
      expect(await names(s, { delimiter: '--' })).toEqual(['a--', 'a-y', 'b--']);
      // Without a delimiter, every name under the prefix.
      expect(await names(s, { prefix: 'a' })).toEqual(['a--b--', 'a--b--c', 'a--b--d', 'a--x', 'a-y']);
    });

    it('pages count files and folders against limit; the cursor continues exactly after', async () => {
      const s = await store(subject);
      const all = ['d1/x', 'd1/y', 'd2/x', 'e', 'f', 'g/h/i', 'h'];
      for (const n of all) await storeTo(s, n);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await s.list({ delimiter: '/', limit: 2, ...(cursor ? { cursor } : {}) });
        expect(page.files.length + page.folders.length).toBeLessThanOrEqual(2);
        seen.push(...byBytes([...page.folders, ...page.files.map((f) => f.name)]));
        cursor = page.next ?? undefined;
        pages++;
      } while (cursor);
      expect(seen).toEqual(['d1/', 'd2/', 'e', 'f', 'g/', 'h']);
      expect(pages).toBe(3);
      await expect(
        s.list({ delimiter: '/', prefix: 'd', cursor: (await s.list({ delimiter: '/', limit: 1 })).next! }),
      ).rejects.toMatchObject({
        code: 'bad_request',
        field: 'cursor',
      });
      await expect(s.list({ limit: 0 })).rejects.toMatchObject({ code: 'bad_request', field: 'limit' });
      await expect(s.list({ limit: 1001 })).rejects.toMatchObject({ code: 'bad_request', field: 'limit' });
      await expect(s.list({ cursor: 'garbage' })).rejects.toMatchObject({ code: 'bad_request', field: 'cursor' });
    });

    it('a cursor survives inserts and deletes between pages: nothing twice, nothing that stayed is skipped', async () => {
      const s = await store(subject);
      const initial = Array.from({ length: 24 }, (_, i) => `n/${String(i * 10).padStart(3, '0')}`);
      for (const n of initial) await storeTo(s, n);
      const stayed = new Set(initial);
      const seen: string[] = [];
      let cursor: string | undefined;
      let round = 0;
      do {
        const page = await s.list({ prefix: 'n/', limit: 5, ...(cursor ? { cursor } : {}) });
        seen.push(...page.files.map((f) => f.name));
        cursor = page.next ?? undefined;
        // Between pages: a name before the cursor, one after it, and a delete of one not seen yet.
        round++;
        await storeTo(s, `n/${String(round * 10 - 5).padStart(3, '0')}`);
        await storeTo(s, `n/${String(200 + round).padStart(3, '0')}`);
        const victim = initial[initial.length - round];
        if (victim && !seen.includes(victim)) {
          await s.removeName(victim);
          stayed.delete(victim);
        }
      } while (cursor);
      expect(new Set(seen).size).toBe(seen.length);
      for (const n of stayed) expect(seen).toContain(n);
      expect(seen).toEqual(byBytes(seen));
    });

    it('storing to a name replaces its file atomically; the old file goes, new ids, conditions hold', async () => {
      const s = await store(subject);
      const first = await storeTo(s, 'report.pdf', bytes(3 * CHUNK, 1));
      expect(first).toMatchObject({ created: true });
      expect(first.replaced).toBeUndefined();
      // A reader of the old file that started before the replace finishes it.
      const reading = collect(s.download(first.file.id));
      const second = await storeTo(s, 'report.pdf', bytes(2 * CHUNK + 5, 2));
      expect(second).toMatchObject({ created: false, replaced: { id: first.file.id } });
      expect(second.file.id).not.toBe(first.file.id);
      expect((await reading).equals(Buffer.from(bytes(3 * CHUNK, 1)))).toBe(true);
      expect((await s.lookup('report.pdf')).id).toBe(second.file.id);
      await expect(s.stat(first.file.id)).rejects.toMatchObject({ code: 'not_found' });
      expect((await collect(s.download(second.file.id))).equals(Buffer.from(bytes(2 * CHUNK + 5, 2)))).toBe(true);

      await expect(storeTo(s, 'report.pdf', bytes(7, 3), { ifNoneMatch: '*' })).rejects.toMatchObject({
        code: 'precondition_failed',
        status: 412,
      });
      await expect(storeTo(s, 'report.pdf', bytes(7, 3), { ifMatch: `"${first.file.sha256}"` })).rejects.toMatchObject({
        code: 'precondition_failed',
      });
      await expect(storeTo(s, 'absent', bytes(7, 3), { ifMatch: '*' })).rejects.toMatchObject({ code: 'precondition_failed' });
      expect((await s.lookup('report.pdf')).id).toBe(second.file.id);
      await expect(s.lookup('absent')).rejects.toMatchObject({ code: 'not_found' });
      const third = await storeTo(s, 'report.pdf', bytes(7, 3), { ifMatch: `"${second.file.sha256}"` });
      expect(third.replaced?.id).toBe(second.file.id);
      expect((await storeTo(s, 'fresh', bytes(7, 4), { ifNoneMatch: '*' })).created).toBe(true);
      expect((await s.list({ prefix: '' })).files.map((f) => f.name)).toEqual(['fresh', 'report.pdf']);

      // Replaced files' chunks are gc-able once the grace has passed; the name's file is whole.
      const report = await s.gc({ graceMs: 0 });
      expect(report.removedChunks).toBe(3 + 3); // the first and the second file's
      expect((await s.verify()).problems).toEqual([]);
    });

    it('names are 1 to 1024 bytes of valid UTF-8, any character', async () => {
      const s = await store(subject);
      const long = 'é'.repeat(512); // 1024 bytes
      const odd = subject.oddNames ?? ['../x', '/a', 'a/', 'a//b', 'a\\b', ' ', 'tab\there'];
      for (const n of odd) expect((await storeTo(s, n)).file.name).toBe(n);
      if (subject.maxNameBytes === undefined) expect((await storeTo(s, long)).file.name).toBe(long);
      for (const bad of ['', 'é'.repeat(512) + 'x', 'lone\ud800surrogate']) {
        await expect(lastValueFrom(s.uploadTo(bad, bytes(3)))).rejects.toMatchObject({ code: 'bad_request', field: 'name' });
        await expect(s.lookup(bad)).rejects.toMatchObject({ code: 'bad_request', field: 'name' });
      }
      expect(await names(s)).toEqual(byBytes(odd.concat(subject.maxNameBytes === undefined ? [long] : [])));
    });

    it('copy and move by name move no byte: the same chunks, new manifests', async () => {
      const s = await store(subject);
      const data = bytes(2 * CHUNK + 1, 9);
      const orig = await storeTo(s, 'src/a.bin', data);
      const chunks = async () => {
        let n = 0;
        for await (const _ of s.chunkStore.list('chunks/')) n++;
        return n;
      };
      const before = await chunks();
      const copied = await s.copy('src/a.bin', 'dst/b.bin');
      expect(copied.file).toMatchObject({ name: 'dst/b.bin', sha256: orig.file.sha256, size: data.length });
      expect(copied.file.id).not.toBe(orig.file.id);
      expect(await chunks()).toBe(before);
      const moved = await s.move('src/a.bin', 'dst/c.bin');
      expect(await names(s)).toEqual(['dst/b.bin', 'dst/c.bin']);
      await expect(s.lookup('src/a.bin')).rejects.toMatchObject({ code: 'not_found' });
      expect((await collect(s.download(moved.file.id))).equals(Buffer.from(data))).toBe(true);
      await expect(s.copy('dst/b.bin', 'dst/c.bin', { ifNoneMatch: '*' })).rejects.toMatchObject({ code: 'precondition_failed' });
      await expect(s.copy('nope', 'x')).rejects.toMatchObject({ code: 'not_found' });
      expect(await chunks()).toBe(before);
      expect((await s.gc({ graceMs: 0 })).removedChunks).toBe(0);
    });

    it('an upload that only names its file makes it the name file; the older stays by id (as before)', async () => {
      const s = await store(subject);
      const put = async (data: Uint8Array) => {
        const last = await lastValueFrom(s.upload(data, { name: 'same.txt' }));
        return (last as { file: FileInfo }).file;
      };
      const a = await put(bytes(5, 1));
      const b = await put(bytes(6, 2));
      expect((await s.lookup('same.txt')).id).toBe(b.id);
      expect((await s.stat(a.id)).id).toBe(a.id);
      expect((await s.list()).length).toBe(2);
      await s.remove(b.id);
      await expect(s.lookup('same.txt')).rejects.toMatchObject({ code: 'not_found' });
      expect((await s.stat(a.id)).id).toBe(a.id);
    });

    it('listAll pulls pages as it is consumed', async () => {
      const inner = await subject.chunkStore();
      let pages = 0;
      const index = inner.names!;
      const counting = { ...index, list: (q: NameQuery, o?: CallOptions) => (pages++, index.list(q, o)) };
      const s = openStore({ chunkStore: Object.assign(Object.create(inner) as ChunkStore, { names: counting }), chunkSize: CHUNK });
      for (let i = 0; i < 5; i++) await storeTo(s, `p${i}`);
      const it = s.listAll({ limit: 2 })[Symbol.asyncIterator]();
      expect((await it.next()).value).toMatchObject({ file: { name: 'p0' } });
      expect((await it.next()).value).toMatchObject({ file: { name: 'p1' } });
      expect(pages).toBe(1); // the second page is read only when the first is used up
      expect((await it.next()).value).toMatchObject({ file: { name: 'p2' } });
      expect(pages).toBe(2);
      await it.return?.(undefined);
      expect(await names(s, { limit: 2 })).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
    });
  });
}
