import { randomBytes } from 'node:crypto';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/engine/store.js';
import type { UploadEvent } from '../../src/engine/upload.js';
import { createS3Store } from '../../src/storage/s3.js';
import { startS3Proxy, type ProxyAction, type ProxiedRequest, type S3ProxyHandle } from '../helpers/s3proxy.js';
import { S3RVER_CREDENTIALS, startS3rver, type S3rverHandle } from '../helpers/s3rver.js';

const chunkSize = 64 * 1024;
const CYCLE: ProxyAction[] = [500, 503, 'drop-request', 'drop-response'];

/** Every 3rd request fails, cycling through the fault kinds: deterministic by arrival order. */
const everyThird = (r: ProxiedRequest): ProxyAction => (r.n % 3 === 0 ? CYCLE[(r.n / 3) % CYCLE.length]! : 'pass');

async function settle(store: Store, id: string): Promise<{ bytes: Buffer; error?: { code?: string; message?: string } }> {
  const parts: Uint8Array[] = [];
  return new Promise((resolve) =>
    store.download(id).subscribe({
      next: (c) => parts.push(c),
      error: (error) => resolve({ bytes: Buffer.concat(parts), error }),
      complete: () => resolve({ bytes: Buffer.concat(parts) }),
    }),
  );
}

async function upload(store: Store, data: Uint8Array, name: string) {
  const last = (await lastValueFrom(store.upload(data, { name }).pipe(toArray()))).at(-1) as UploadEvent;
  if (last.type !== 'committed') throw new Error(`upload ended with ${last.type}`);
  return last.file;
}

describe('S3 faults: 5xx, dropped requests, responses cut mid-body', () => {
  let server: S3rverHandle;
  const proxies: S3ProxyHandle[] = [];
  beforeAll(async () => {
    server = await startS3rver();
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await server?.close();
  });
  const through = async (prefix: string, decide: (r: ProxiedRequest) => ProxyAction, maxAttempts: number) => {
    const proxy = await startS3Proxy(server.endpoint, { decide });
    proxies.push(proxy);
    const chunkStore = createS3Store({
      bucket: server.bucket,
      endpoint: proxy.endpoint,
      credentials: S3RVER_CREDENTIALS,
      prefix,
      maxAttempts,
    });
    return { proxy, store: openStore({ chunkStore, chunkSize }), direct: openStore({ chunkStore: server.store({ prefix }), chunkSize }) };
  };

  it('concurrent transfers complete through retries, byte-exact, with every manifest whole', async () => {
    const { proxy, store, direct } = await through('faults/retry', everyThird, 8);
    const sources = [randomBytes(6 * chunkSize + 1), randomBytes(4 * chunkSize), randomBytes(chunkSize - 3)];
    const files = await Promise.all(sources.map((s, i) => upload(store, s, `f${i}.bin`)));
    for (const [i, f] of files.entries()) {
      const { bytes, error } = await settle(store, f.id);
      expect(error).toBeUndefined();
      expect(bytes.equals(sources[i]!)).toBe(true);
    }
    // The faults did happen, each kind (else this test proves nothing).
    for (const kind of CYCLE) expect(proxy.faults[String(kind)] ?? 0, `fault ${kind}`).toBeGreaterThan(0);
    // Seen without the proxy: three manifests, each with every chunk, nothing left half-done.
    expect((await direct.list()).length).toBe(3);
    expect((await direct.verify()).problems).toEqual([]);
    const sessions: string[] = [];
    for await (const o of direct.chunkStore.list('uploads/')) sessions.push(o.key);
    expect(sessions).toEqual([]);
    await store.close();
  });

  it('a manifest write that keeps failing fails the upload with a coded [s3] error and commits nothing', async () => {
    const { store, direct } = await through('faults/manifest', (r) => (r.method === 'PUT' && r.url.includes('/files/') ? 503 : 'pass'), 2);
    const err = await upload(store, randomBytes(3 * chunkSize), 'never.bin').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'storage' });
    expect((err as Error).message).toMatch(/^\[s3\] (put|head|refresh) files\//);
    expect(await direct.list()).toEqual([]);
    const manifests: string[] = [];
    for await (const o of direct.chunkStore.list('files/')) manifests.push(o.key);
    expect(manifests).toEqual([]);
    await store.close();
  });

  it('chunk writes that keep failing fail the upload (storage), and no manifest appears', async () => {
    const { store, direct } = await through(
      'faults/chunks',
      (r) => (r.method === 'PUT' && r.url.includes('/chunks/') ? 'drop-request' : 'pass'),
      2,
    );
    const err = await upload(store, randomBytes(2 * chunkSize), 'never.bin').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'storage' });
    expect((err as Error).message).toContain('[s3]');
    expect(await direct.list()).toEqual([]);
    await store.close();
  });

  it('a response body cut off mid-way is read again (the SDK does not retry bodies)', async () => {
    const data = randomBytes(256 * 1024);
    await server.store({ prefix: 'faults/body' }).put('obj', data);
    let cut = 0;
    const proxy = await startS3Proxy(server.endpoint, { decide: (r) => (r.method === 'GET' && cut++ < 2 ? 'drop-response' : 'pass') });
    proxies.push(proxy);
    const store = createS3Store({
      bucket: server.bucket,
      endpoint: proxy.endpoint,
      credentials: S3RVER_CREDENTIALS,
      prefix: 'faults/body',
      maxAttempts: 3,
    });
    expect(Buffer.from(await store.get('obj')).equals(data)).toBe(true);
    expect(proxy.faults['drop-response']).toBe(2);
    cut = 0;
    const ranged = await store.get('obj', { range: { start: 1000, end: 200_000 } });
    expect(Buffer.from(ranged).equals(data.subarray(1000, 200_001))).toBe(true);
    await store.close?.();
  });

  it('a chunk whose reads keep breaking off mid-body fails the download; what was delivered is a true prefix', async () => {
    const prefix = 'faults/reads';
    const data = randomBytes(4 * chunkSize);
    const writer = openStore({ chunkStore: server.store({ prefix }), chunkSize });
    const file = await upload(writer, data, 'r.bin');
    const third = (await writer.manifest(file.id)).chunks[2]!.key;
    const { store } = await through(prefix, (r) => (r.method === 'GET' && r.url.includes(third) ? 'drop-response' : 'pass'), 3);
    const { bytes, error } = await settle(store, file.id);
    expect(error).toMatchObject({ code: 'storage' });
    expect(error?.message).toMatch(/^\[s3\] get chunks\//);
    expect(bytes.byteLength).toBeLessThanOrEqual(2 * chunkSize);
    expect(bytes.equals(data.subarray(0, bytes.byteLength))).toBe(true);
    await store.close();
    await writer.close();
  });
});
