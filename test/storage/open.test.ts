import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChunkStore, parseS3Url } from '../../src/storage/open.js';
import type { S3Store } from '../../src/storage/s3.js';
import { startS3rver, S3RVER_ENV, type S3rverHandle } from '../helpers/s3rver.js';
import { tempDir } from '../helpers/core.js';

describe('openChunkStore', () => {
  let server: S3rverHandle;
  const saved = { ...process.env };
  beforeAll(async () => {
    server = await startS3rver();
    Object.assign(process.env, S3RVER_ENV); // the SDK's default chain reads these
  });
  afterAll(async () => {
    process.env = saved;
    await server?.close();
  });

  it('parses s3://BUCKET/PREFIX', () => {
    expect(parseS3Url('s3://my-bucket/some/prefix')).toEqual({ bucket: 'my-bucket', prefix: 'some/prefix' });
    expect(parseS3Url('s3://my-bucket/some/prefix/')).toEqual({ bucket: 'my-bucket', prefix: 'some/prefix' });
    expect(parseS3Url('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(parseS3Url('s3://my-bucket/')).toEqual({ bucket: 'my-bucket', prefix: '' });
  });

  it('rejects malformed store URLs with invalid_option naming store', async () => {
    for (const url of [
      's3://',
      's3:///prefix',
      's3://UPPER/x',
      's3://b/x?y=1',
      's3://bucket/a/../b',
      's3://bucket/a//b',
      's3://ab',
      'gs://bucket/x',
      'bucket/x',
    ]) {
      await expect(openChunkStore({ store: url }), url).rejects.toMatchObject({ code: 'invalid_option', option: 'store' });
    }
  });

  it('opens an S3 store with endpoint, path-style default, env credentials, and a prefix', async () => {
    const store = (await openChunkStore({
      store: `s3://${server.bucket}/via-open/p`,
      s3Endpoint: server.endpoint,
      concurrency: 8,
    })) as S3Store;
    try {
      expect(store.name).toBe('s3');
      expect(store.prefix).toBe('via-open/p');
      await store.put('k/1', new Uint8Array([9, 8]));
      expect([...(await server.store().get('via-open/p/k/1'))]).toEqual([9, 8]);
      expect(await store.conditionalWrites()).toBe(false);
    } finally {
      await store.close?.();
    }
  });

  it('still opens directories (default and file://)', async () => {
    const dir = await tempDir('open');
    const a = await openChunkStore({ dir, fsync: false });
    const b = await openChunkStore({ store: `file://${dir}`, fsync: false });
    await a.put('x', new Uint8Array([1]));
    expect([a.name, b.name]).toEqual(['fs', 'fs']);
    expect([...(await b.get('x'))]).toEqual([1]);
  });
});
