import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createS3Store } from '../../src/storage/s3.js';
import { startS3Proxy, type ProxiedRequest } from '../helpers/s3proxy.js';
import { backdate } from '../helpers/core.js';
import { s3rverPerSuite, startS3rver, type S3rverHandle } from '../helpers/s3rver.js';
import { describeChunkStoreConformance } from './conformance.js';

/** Ages an object behind the API: s3rver reports its file's mtime as LastModified. */
const ager = (server: S3rverHandle, prefix: string) => (key: string, ms: number) => backdate(server.objectFile(`${prefix}/${key}`), ms);

describeChunkStoreConformance('s3 (s3rver)', { conditionalPut: false, rangeGet: true, lateInto: true, flush: false }, async () => {
  const server = await startS3rver();
  // Small pages so the suite's listing crosses page boundaries.
  const store = server.store({ prefix: 'conformance/plain', pageSize: 40 });
  expect(await store.conditionalWrites()).toBe(false); // s3rver ignores If-None-Match: HEAD then PUT
  return { store, age: ager(server, 'conformance/plain'), cleanup: () => server.close() };
});

// s3rver ignores If-None-Match; a proxy enforcing it stands in for AWS/MinIO so the 412 path runs too.
describeChunkStoreConformance(
  's3 with conditional writes (s3rver + enforcing proxy)',
  { conditionalPut: true, rangeGet: true, lateInto: true, flush: false },
  async () => {
    const server = await startS3rver();
    const proxy = await startS3Proxy(server.endpoint, { conditional: true });
    const store = server.store({ endpoint: proxy.endpoint, prefix: 'conformance/cond', pageSize: 40 });
    expect(await store.conditionalWrites()).toBe(true);
    return {
      store,
      age: ager(server, 'conformance/cond'),
      async cleanup() {
        await store.close?.(); // before the proxy it talks through
        await proxy.close();
        await server.close();
      },
    };
  },
);

describe('s3 store specifics', () => {
  const s3 = s3rverPerSuite();

  it('validates options, naming the bad one', () => {
    const bad = (o: Record<string, unknown>) => {
      try {
        createS3Store({ bucket: 'ok-bucket', ...o });
      } catch (err) {
        return { code: (err as { code?: string }).code, option: (err as { option?: string }).option };
      }
      return undefined;
    };
    expect(bad({ bucket: 'No_Such Bucket' })).toEqual({ code: 'invalid_option', option: 'bucket' });
    expect(bad({ maxSockets: 0 })).toEqual({ code: 'invalid_option', option: 'maxSockets' });
    expect(bad({ maxAttempts: 1.5 })).toEqual({ code: 'invalid_option', option: 'maxAttempts' });
    expect(bad({ endpoint: 'not a url' })).toEqual({ code: 'invalid_option', option: 'endpoint' });
    expect(bad({ conditionalWrites: 'sometimes' })).toEqual({ code: 'invalid_option', option: 'conditionalWrites' });
    expect(bad({ prefix: 'a/../b' })).toEqual({ code: 'invalid_option', option: 'prefix' });
    expect(bad({ client: {} })).toEqual({ code: 'invalid_option', option: 'client' });
    expect(bad({ colour: 'blue' })).toEqual({ code: 'invalid_option', option: 'colour' });
    expect(bad({})).toBeUndefined();
  });

  it('finds that s3rver ignores If-None-Match and degrades to HEAD-then-PUT', async () => {
    const store = s3().store({ prefix: 'probe' });
    expect(store.capabilities.conditionalPut).toBe(false);
    expect(await store.conditionalWrites()).toBe(false);
    expect(store.capabilities.conditionalPut).toBe(false);
    // The probe cleans up after itself.
    const keys: string[] = [];
    for await (const o of s3().store().list('')) keys.push(o.key);
    expect(keys.filter((k) => k.startsWith('probe/'))).toEqual([]);
  });

  it('treats a server refusing If-None-Match (501) as not enforcing it, and still puts safely', () =>
    s3().viaProxy(
      { decide: (r) => (r.method === 'PUT' && r.headers['if-none-match'] ? 501 : 'pass') },
      { prefix: 'refused', maxAttempts: 1 },
      async (store) => {
        expect(await store.put('k', new Uint8Array([1]), { ifNotExists: true })).toEqual({ created: true });
        expect(await store.put('k', new Uint8Array([2]), { ifNotExists: true })).toEqual({ created: false });
        expect(store.capabilities.conditionalPut).toBe(false);
        expect([...(await store.get('k'))]).toEqual([1]);
      },
    ));

  it('an undecided probe (5xx) fails that put with a storage error and probes again next time', async () => {
    let failing = true;
    const decide = (r: ProxiedRequest) => (failing && r.url.includes('_chunkstream-probe') ? 500 : 'pass');
    await s3().viaProxy({ decide }, { prefix: 'undecided', maxAttempts: 1 }, async (store) => {
      await expect(store.put('k', new Uint8Array([1]), { ifNotExists: true })).rejects.toMatchObject({ code: 'storage' });
      expect(await store.has('k')).toBe(false);
      failing = false;
      expect(await store.put('k', new Uint8Array([1]), { ifNotExists: true })).toEqual({ created: true });
    });
  });

  it('keeps objects under its prefix, and prefixes apart', async () => {
    const a = s3().store({ prefix: 'tenant-a/' });
    const b = s3().store({ prefix: 'tenant-b' });
    const root = s3().store();
    await a.put('x/1', new Uint8Array([1]));
    await b.put('x/1', new Uint8Array([2]));
    expect([...(await a.get('x/1'))]).toEqual([1]);
    expect([...(await root.get('tenant-a/x/1'))]).toEqual([1]);
    const listed: string[] = [];
    for await (const o of b.list('')) listed.push(o.key);
    expect(listed).toEqual(['x/1']);
  });

  it('an abort while the request is at the server rejects with aborted, and nothing is stored', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const decide = async (r: ProxiedRequest) => (r.url.includes('/held/') ? (await held, 'pass' as const) : 'pass');
    try {
      await s3().viaProxy({ decide }, { prefix: 'abort', conditionalWrites: false }, async (store, proxy) => {
        const ac = new AbortController();
        const arrived = once(proxy.events, 'request') as Promise<[ProxiedRequest]>;
        const put = store.put('held/x', new Uint8Array(4096), { signal: ac.signal });
        const [req] = await arrived;
        expect(req.method).toBe('PUT');
        ac.abort();
        await expect(put).rejects.toMatchObject({ code: 'aborted' });
        await req.closed; // the proxy has seen the client give up: the held request is never forwarded
        release();
        expect(await s3().store({ prefix: 'abort' }).has('held/x')).toBe(false);
      });
    } finally {
      release();
    }
  });

  it('close() destroys only a client it created', async () => {
    const own = s3().store({ prefix: 'close' });
    const shared = createS3Store({ bucket: s3().bucket, client: own.client, prefix: 'close' });
    await shared.put('k', new Uint8Array([7]));
    await shared.close?.();
    expect([...(await own.get('k'))]).toEqual([7]);
  });
});
