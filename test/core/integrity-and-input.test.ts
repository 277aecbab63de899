import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { CorruptManifestError, IntegrityError, InvalidOptionError, KiB, createMemoryStore, openStore } from '../../src/index.js';
import { bytes, collect, put, tempDir } from '../helpers/core.js';

const chunkSize = 64 * KiB;
const chunkPath = (dir: string, key: string) => path.join(dir, 'chunks', key.slice(0, 2), key.slice(2, 4), key);

describe('integrity', () => {
  it('a byte flipped in a stored chunk fails with IntegrityError and no wrong byte is delivered', async () => {
    const dir = await tempDir();
    const store = openStore({ dir, chunkSize, downloadConcurrency: 3 });
    const data = Buffer.from(bytes(5 * chunkSize + 100, 21));
    const file = await put(store, data);
    const manifest = await store.manifest(file.id);
    const victim = manifest.chunks[2]!;
    const p = chunkPath(dir, victim.key);
    const stored = await readFile(p);
    stored[1234]! ^= 0x01;
    await writeFile(p, stored);

    const delivered: Uint8Array[] = [];
    const err = await new Promise<unknown>((resolve) =>
      store.download(file.id).subscribe({ next: (c) => delivered.push(c), error: resolve, complete: () => resolve(undefined) }),
    );
    expect(err).toBeInstanceOf(IntegrityError);
    expect(err).toMatchObject({ code: 'integrity', fileId: file.id, index: 2, key: victim.key });
    // Whatever was delivered is a correct prefix that stops before the bad chunk.
    const got = Buffer.concat(delivered);
    expect(got.length).toBeLessThanOrEqual(2 * chunkSize);
    expect(got.equals(data.subarray(0, got.length))).toBe(true);

    // A range that avoids the bad chunk is still served; verify() names the bad chunk.
    expect((await collect(store.download(file.id, { range: { start: 0, end: chunkSize - 1 } }))).equals(data.subarray(0, chunkSize))).toBe(
      true,
    );
    const report = await store.verify(file.id);
    expect(report.problems).toEqual([expect.objectContaining({ id: file.id, code: 'integrity', index: 2, key: victim.key })]);
  });

  it('a truncated or missing chunk is an error, never short data', async () => {
    const dir = await tempDir();
    const store = openStore({ dir, chunkSize });
    const file = await put(store, bytes(3 * chunkSize));
    const m = await store.manifest(file.id);
    await writeFile(chunkPath(dir, m.chunks[0]!.key), Buffer.alloc(10));
    await expect(collect(store.download(file.id))).rejects.toBeInstanceOf(IntegrityError);
    await store.chunkStore.delete(`chunks/${m.chunks[1]!.key.slice(0, 2)}/${m.chunks[1]!.key.slice(2, 4)}/${m.chunks[1]!.key}`);
    const report = await store.verify();
    expect(report.problems.map((p) => p.code).sort()).toEqual(['integrity', 'missing_chunk']);
  });
});

describe('bad input', () => {
  it.each([
    [{ chunkSize: 12 }, 'chunkSize'],
    [{ chunkSize: 128 * 1024 * 1024 }, 'chunkSize'],
    [{ uploadConcurrency: 0 }, 'uploadConcurrency'],
    [{ downloadConcurrency: 1.5 }, 'downloadConcurrency'],
    [{ chunkSzie: 65536 }, 'chunkSzie'],
    [{ chunkStore: { put() {} } }, 'chunkStore'],
    [{ dir: '' }, 'dir'],
    [{ now: 1_700_000_000_000 }, 'now'],
  ])('openStore(%j) is an InvalidOptionError naming %s', (options, option) => {
    let err: unknown;
    try {
      openStore(options as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidOptionError);
    expect(err).toMatchObject({ code: 'invalid_option', option });
    expect((err as Error).message).toContain(option);
  });

  it.each(['../../etc/passwd', '..', 'a/b', '', 'ABC', '0123456789abcdef/..', 'x'.repeat(65)])(
    'the id %j is a bad_request and touches nothing',
    async (id) => {
      const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
      await expect(store.stat(id)).rejects.toMatchObject({ code: 'bad_request', field: 'id' });
      await expect(store.remove(id)).rejects.toMatchObject({ code: 'bad_request' });
      expect(() => store.download(id)).toThrow(expect.objectContaining({ code: 'bad_request' }));
      await expect(store.verify(id)).rejects.toMatchObject({ code: 'bad_request' });
      await expect(store.uploadStatus(id)).rejects.toMatchObject({ code: 'bad_request', field: 'uploadId' });
    },
  );

  it.each([
    '../x',
    '/a',
    'a/',
    'a//b',
    'a/./b',
    'a/../b',
    'a/..',
    'a\\b',
    '.',
    '..',
    '',
    'nul\u0000byte',
    'x'.repeat(256),
    'c1\u009bcontrol',
    'lone\ud800surrogate',
    'bidi\u202eoverride',
  ])('the name %j is a bad_request', async (name) => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    await expect(lastValueFrom(store.upload(bytes(10), { name }))).rejects.toMatchObject({ code: 'bad_request', field: 'name' });
    expect(await store.list()).toEqual([]);
  });

  it('an empty or over-long name is refused in plain words', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    await expect(lastValueFrom(store.upload(bytes(10), { name: '' }))).rejects.toThrow(/name.*must not be empty/);
    await expect(lastValueFrom(store.upload(bytes(10), { name: 'x'.repeat(256) }))).rejects.toThrow(/name.*must be at most 255 characters/);
  });

  it('a corrupt manifest is an error for that file only; the store keeps serving the others', async () => {
    const dir = await tempDir();
    const store = openStore({ dir, chunkSize });
    const good = await put(store, bytes(2 * chunkSize, 1), 'good');
    const bad = await put(store, bytes(2 * chunkSize, 2), 'bad');
    const manifestFile = path.join(dir, 'files', `${bad.id}.json`);
    const json = JSON.parse(await readFile(manifestFile, 'utf8'));
    json.chunks[0].size = 17; // sizes no longer add up
    await writeFile(manifestFile, JSON.stringify(json));

    const err = await store.stat(bad.id).catch((e) => e);
    expect(err).toBeInstanceOf(CorruptManifestError);
    expect(err.message).toContain(bad.id);
    expect(err.message).toMatch(/chunks\.0\.size|size/);
    await expect(collect(store.download(bad.id))).rejects.toMatchObject({ code: 'corrupt_manifest' });
    expect((await store.list()).map((f) => f.id)).toEqual([good.id]);
    expect((await store.verify()).problems).toEqual([expect.objectContaining({ id: bad.id, code: 'corrupt_manifest' })]);

    await writeFile(manifestFile, '{not json');
    await expect(store.stat(bad.id)).rejects.toMatchObject({ code: 'corrupt_manifest' });
    // gc keeps the chunks a corrupt manifest may still need only if it can read their keys;
    // the good file is never touched.
    await store.gc({ graceMs: 0 });
    expect((await collect(store.download(good.id))).equals(Buffer.from(bytes(2 * chunkSize, 1)))).toBe(true);
  });

  it('expectedSize and expectedSha256 refuse to commit a file that does not match', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize });
    const data = bytes(1000);
    await expect(lastValueFrom(store.upload(data, { name: 'a', expectedSize: 999 }))).rejects.toMatchObject({
      code: 'bad_request',
      field: 'size',
    });
    await expect(lastValueFrom(store.upload(data, { name: 'a', expectedSize: 1001 }))).rejects.toMatchObject({
      code: 'bad_request',
      field: 'size',
    });
    await expect(lastValueFrom(store.upload(data, { name: 'a', expectedSha256: '0'.repeat(64) }))).rejects.toMatchObject({
      code: 'bad_request',
      field: 'sha256',
    });
    expect(await store.list()).toEqual([]);
  });

  it('maxFileSize is enforced while streaming', async () => {
    const store = openStore({ chunkStore: createMemoryStore(), chunkSize, maxFileSize: 100_000 });
    await expect(lastValueFrom(store.upload(bytes(200_000), { name: 'big' }))).rejects.toMatchObject({ code: 'too_large' });
    expect(await store.list()).toEqual([]);
  });
});
