import { cp } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createFsStore, openStore } from '../../../src/index.js';
import { collect, tempDir } from '../../helpers/core.js';

// Written by the release before the name index (git 8466b77; how: test/fixtures/README.md):
// seven files, `a.txt` twice and `c.txt` three times.
const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/store-before-names');

async function openCopy() {
  const dir = await tempDir('migration');
  await cp(FIXTURE, dir, { recursive: true });
  const chunkStore = createFsStore(dir);
  return { dir, chunkStore, store: openStore({ chunkStore }) };
}

const text = async (s: ReturnType<typeof openStore>, id: string) => (await collect(s.download(id))).toString('utf8');

describe('a store written before the name index', () => {
  it('opens and lists: each name means its newest file, the others stay reachable by id, and the report says which', async () => {
    const { store, chunkStore } = await openCopy();
    // The first listing migrates by itself.
    const page = await store.list({ delimiter: '/' });
    expect(page.folders).toEqual(['dir/']);
    expect(page.files.map((f) => f.name)).toEqual(['a.txt', 'c.txt']);
    expect(await text(store, (await store.lookup('a.txt')).id)).toBe('a.txt, second');
    expect(await text(store, (await store.lookup('c.txt')).id)).toBe('c.txt, third');
    expect(await text(store, (await store.lookup('dir/sub/d.txt')).id)).toBe('dir/sub/d.txt, only');
    const report = await store.migrateNames();
    expect(report).toMatchObject({ files: 7, shadowed: 3, shadowedNames: ['a.txt', 'c.txt'] });
    // Every file is still there by id, and read back whole.
    const all = await store.list();
    expect(all).toHaveLength(7);
    expect((await Promise.all(all.map((f) => text(store, f.id)))).sort()).toEqual(
      ['a.txt, first', 'a.txt, second', 'c.txt, first', 'c.txt, second', 'c.txt, third', 'dir/b.txt, only', 'dir/sub/d.txt, only'].sort(),
    );
    expect((await store.verify()).problems).toEqual([]);
    await store.close();
    await chunkStore.close?.();
  });

  it('migrates once: a store opened again reads the same report, and a store to a name replaces only the name file', async () => {
    const { dir, store, chunkStore } = await openCopy();
    const first = await store.migrateNames();
    await store.close();
    await chunkStore.close?.();
    const again = openStore({ dir });
    expect(await again.migrateNames()).toEqual(first);
    const before = await again.lookup('c.txt');
    const stored = await lastValueFrom(again.uploadTo('c.txt', new TextEncoder().encode('c.txt, fourth')));
    expect(stored).toMatchObject({ type: 'committed', replaced: { id: before.id } });
    expect(await again.list()).toHaveLength(7); // the third went, the fourth came; the shadowed two stay
    await again.close();
  });
});
