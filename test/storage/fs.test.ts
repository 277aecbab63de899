import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFsStore } from '../../src/storage/fs.js';
import { backdate, tempDir } from '../helpers/core.js';
import { describeChunkStoreConformance } from './conformance.js';

describeChunkStoreConformance('fs', { conditionalPut: true, rangeGet: true, lateInto: true, flush: true }, async () => {
  const dir = await tempDir('fs-store');
  return {
    store: createFsStore(dir, { fsync: false }),
    age: (key, ms) => backdate(path.join(dir, ...key.split('/')), ms),
    cleanup: async () => undefined, // tempDir removes it
  };
});

describe('fs store specifics', () => {
  it('keeps temp files out of listings and sweeps only those older than the cutoff', async () => {
    const dir = await tempDir('fs-store');
    const store = createFsStore(dir, { fsync: false });
    await store.put('a/b', new Uint8Array([1]));
    await writeFile(path.join(dir, 'tmp', 'old.tmp'), 'x');
    await writeFile(path.join(dir, 'tmp', 'new.tmp'), 'x');
    await backdate(path.join(dir, 'tmp', 'old.tmp'), 3600_000);
    const keys: string[] = [];
    for await (const o of store.list('')) keys.push(o.key);
    expect(keys).toEqual(['a/b']);
    expect(await store.sweep!(new Date(Date.now() - 60_000))).toBe(1);
    expect(await readdir(path.join(dir, 'tmp'))).toEqual(['new.tmp']);
  });
});
