import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { chunkKey } from '../../src/catalog/catalog.js';
import { openStore } from '../../src/engine/store.js';
import { startServer } from '../../src/gateway/server.js';
import { CHUNK, collect, listKeys, put } from '../helpers/core.js';
import { request } from '../helpers/http-server.js';
import { s3rverPerSuite } from '../helpers/s3rver.js';

/** Damage done behind S3's back (on s3rver's own files), then the store healed by an upload of the same bytes. */
describe('healing on S3 (s3rver)', () => {
  const s3 = s3rverPerSuite();

  it.each([
    [
      'a flipped byte',
      'integrity',
      async (f: string) =>
        writeFile(
          f,
          (await readFile(f)).map((b, i) => (i === 3 ? b ^ 1 : b)),
        ),
    ],
    ['a truncation', 'integrity', async (f: string) => writeFile(f, (await readFile(f)).subarray(0, 100))],
    ['a deletion', 'missing_chunk', (f: string) => rm(f)],
  ])('%s: HTTP answers %s in the file terms, the key is freed, a put heals the file', async (label, code, damage) => {
    const prefix = `heal/${label.replace(/\W/g, '')}`;
    const store = openStore({ chunkStore: s3().store({ prefix }), chunkSize: CHUNK });
    const server = await startServer({ store, port: 0, host: '127.0.0.1', logLevel: 'silent' });
    try {
      const data = randomBytes(3 * CHUNK + 5);
      const a = await put(store, data, 'a.bin');
      const key = (await store.manifest(a.id)).chunks[1]!.key;
      await damage(s3().objectFile(`${prefix}/${chunkKey(key)}`));

      const r = await request(`${server.url}/v1/files/${a.id}`, { headers: { Range: `bytes=${CHUNK}-${CHUNK + 9}` } });
      expect(r.status).toBe(500);
      expect(r.json().error).toMatchObject({ code, message: expect.stringContaining('chunk 1') });
      expect(r.body.toString()).not.toMatch(/chunks\/|quarantine\/|_S3rver/);
      expect(await store.chunkStore.has(chunkKey(key))).toBe(false);
      if (code === 'integrity') expect((await listKeys(store.chunkStore, 'quarantine/')).length).toBe(1);
      expect((await store.verify(a.id)).problems).toEqual([expect.objectContaining({ code, index: 1, start: CHUNK })]);

      await put(store, data, 'a-again.bin');
      expect((await collect(store.download(a.id))).equals(data)).toBe(true);
      expect(await store.repair()).toMatchObject({ whole: 2, damaged: 0 });
      expect(await listKeys(store.chunkStore, 'quarantine/')).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
