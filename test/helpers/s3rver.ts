import crypto from 'node:crypto';

import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll } from 'vitest';
import { createS3Store, type S3Store, type S3StoreOptions } from '../../src/storage/s3.js';
import { startS3Proxy, type S3ProxyHandle, type S3ProxyOptions } from './s3proxy.js';
import { tempDir } from './core.js';

/** Credentials s3rver accepts (it checks signatures against these). */
export const S3RVER_ENV = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' } as const;
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3rverHandle {
  /** The S3 endpoint to use: s3rver behind a proxy that makes object writes atomic (see s3proxy). */
  endpoint: string;
  /** s3rver itself, for tests that need to bypass the proxy. */
  rawEndpoint: string;
  bucket: string;
  /** s3rver's data directory: tests reach objects behind the API (to corrupt or age them). */
  directory: string;
  /** The file holding an object's bytes, as s3rver lays it out. */
  objectFile(key: string): string;
  /** A store on this server (own client; close it or let cleanup go). */
  store(options?: Partial<S3StoreOptions>): S3Store;
  /**
   * Runs `fn` with a store reaching this server through a fault proxy (to refuse, fail or hold
   * requests), then closes both.
   */
  viaProxy(
    proxy: S3ProxyOptions,
    options: Partial<S3StoreOptions>,
    fn: (store: S3Store, proxy: S3ProxyHandle) => Promise<void>,
  ): Promise<void>;
  close(): Promise<void>;
}

/**
 * s3rver encrypts ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 (Node 17+)
 * refuses: every truncated listing answers 500. Its tokens are opaque to clients, so an identity
 * "cipher" for exactly that call restores pagination without touching anything else.
 */
function patchS3rverContinuationTokens(): void {
  const c = crypto as unknown as Record<string, unknown> & { __s3rverPatched?: boolean };
  if (c.__s3rverPatched) return;
  const identity = {
    update: (d: string | Buffer, enc?: BufferEncoding) => (typeof d === 'string' ? Buffer.from(d, enc) : d),
    final: () => Buffer.alloc(0),
  };
  for (const name of ['createCipheriv', 'createDecipheriv'] as const) {
    const original = crypto[name] as (...args: unknown[]) => unknown;
    c[name] = (algorithm: unknown, ...rest: unknown[]) => (algorithm === 'des' ? identity : original.call(crypto, algorithm, ...rest));
  }
  c.__s3rverPatched = true;
}

/** Starts a silent s3rver on 127.0.0.1 (ephemeral port) in a temp dir, with one bucket. */
export async function startS3rver(bucket = 'chunkstream-test'): Promise<S3rverHandle> {
  patchS3rverContinuationTokens();
  const directory = await tempDir('s3rver');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const rawEndpoint = `http://127.0.0.1:${port}`;
  const atomic = await startS3Proxy(rawEndpoint, { atomic: true });
  const endpoint = atomic.endpoint;
  const stores: S3Store[] = [];
  return {
    endpoint,
    rawEndpoint,
    bucket,
    directory,
    objectFile: (key) => {
      const parts = key.split('/');
      const last = parts.pop()!;
      return path.join(directory, bucket, ...parts, `${last}._S3rver_object`);
    },
    store(options = {}) {
      const s = createS3Store({ bucket, endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1', ...options });
      stores.push(s);
      return s;
    },
    async viaProxy(proxyOptions, options, fn) {
      const proxy = await startS3Proxy(endpoint, proxyOptions);
      try {
        const s = createS3Store({ bucket, endpoint: proxy.endpoint, credentials: S3RVER_CREDENTIALS, region: 'us-east-1', ...options });
        try {
          await fn(s, proxy);
        } finally {
          await s.close?.();
        }
      } finally {
        await proxy.close();
      }
    },
    async close() {
      await Promise.all(stores.map(async (s) => s.close?.()));
      await atomic.close();
      // Keep-alive sockets would hold close() open.
      server.httpServer?.closeAllConnections();
      await server.close();
    },
  };
}

/** One s3rver for the describe block (or file) this is called in: a getter, valid in its tests. */
export function s3rverPerSuite(bucket?: string): () => S3rverHandle {
  let server: S3rverHandle | undefined;
  beforeAll(async () => {
    server = await startS3rver(bucket);
  });
  afterAll(async () => {
    await server?.close();
  });
  return () => server!;
}
