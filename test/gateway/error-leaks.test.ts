import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { chunkKey } from '../../src/catalog/catalog.js';
import { connect } from '../../src/client/index.js';
import { ChunkstreamError, StorageError } from '../../src/errors.js';
import { publicMessage } from '../../src/gateway/public-error.js';
import { collect } from '../helpers/core.js';
import { CHUNK, request, upload, testServerPerSuite } from '../helpers/http-server.js';

const t = testServerPerSuite();
const LEAK = /chunks\/|tmp\/|quarantine\/|\.tmp\b|ENOENT ENOENT/;

describe('no answer names a store key or a server path', () => {
  it('a lost chunk is not 404 and does not name its object (HTTP and WebSocket)', async () => {
    const { id } = await upload(t.url, 'gone.bin', randomBytes(2 * CHUNK));
    const key = (await t.store.manifest(id)).chunks[0]!.key;
    await rm(path.join(t.dir, ...chunkKey(key).split('/')));
    const r = await request(`${t.url}/v1/files/${id}`);
    expect(r.status).toBe(500);
    expect(r.json().error.code).toBe('missing_chunk');
    expect(r.body.toString()).not.toMatch(LEAK);
    expect(r.body.toString()).not.toContain(key);
    const client = await connect(`${t.url.replace('http', 'ws')}/v1/ws`);
    try {
      const err = (await collect(client.download(id)).catch((e: unknown) => e)) as ChunkstreamError;
      expect(err.code).toBe('missing_chunk');
      expect(err.message).not.toMatch(LEAK);
    } finally {
      await client.close();
    }
  });

  // Last: the store keeps no tmp/ after this (it does not make it again).
  it('a write failing on a vanished temp directory: 503 storage, generic over HTTP and WebSocket', async () => {
    await upload(t.url, 'warm.bin', randomBytes(10)); // the store has made its tmp/ once
    await rm(path.join(t.dir, 'tmp'), { recursive: true, force: true });
    const r = await request(`${t.url}/v1/files?name=x.bin`, { method: 'PUT', body: randomBytes(2 * CHUNK) });
    expect(r.status).toBe(503);
    expect(r.json().error.code).toBe('storage');
    expect(r.body.toString()).not.toMatch(LEAK);
    expect(r.body.toString()).not.toContain(t.dir);

    const client = await connect(`${t.url.replace('http', 'ws')}/v1/ws`);
    try {
      const err = (await lastValueFrom(client.upload(randomBytes(CHUNK), { name: 'y.bin' })).catch((e: unknown) => e)) as ChunkstreamError;
      expect(err.code).toBe('storage');
      expect(err.message).not.toMatch(LEAK);
      expect(err.message).not.toContain(t.dir);
    } finally {
      await client.close();
    }
  });

  it('publicMessage cuts keys and quoted paths, keeps what a client sent', () => {
    const e = new StorageError('fs', "put chunks/12/06/12068f failed: ENOENT: no such file or directory, open '/srv/x/tmp/67.tmp'");
    expect(publicMessage(e)).not.toMatch(LEAK);
    expect(publicMessage(new ChunkstreamError('method_not_allowed', 'PUT is not allowed on /v1/files/abc/meta'))).toBe(
      'PUT is not allowed on /v1/files/abc/meta',
    );
  });
});
