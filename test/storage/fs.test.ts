import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createFsStore } from '../../src/storage/fs.js';
import { describeChunkStoreConformance } from './conformance.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cs-fs-store-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describeChunkStoreConformance('fs', async () => {
  const dir = await tempDir();
  return { store: createFsStore(dir, { fsync: false }), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('fs store specifics', () => {
  it('keeps temp files out of listings and sweeps only those older than the cutoff', async () => {
    const dir = await tempDir();
    const store = createFsStore(dir, { fsync: false });
    await store.put('a/b', new Uint8Array([1]));
    await writeFile(path.join(dir, 'tmp', 'old.tmp'), 'x');
    await writeFile(path.join(dir, 'tmp', 'new.tmp'), 'x');
    const old = new Date(Date.now() - 3600_000);
    await utimes(path.join(dir, 'tmp', 'old.tmp'), old, old);
    const keys: string[] = [];
    for await (const o of store.list('')) keys.push(o.key);
    expect(keys).toEqual(['a/b']);
    expect(await store.sweep!(new Date(Date.now() - 60_000))).toBe(1);
    expect(await readdir(path.join(dir, 'tmp'))).toEqual(['new.tmp']);
  });
});
