import http from 'node:http';

import type { AddressInfo } from 'node:net';
import { createTokenChecker } from '../../src/gateway/auth.js';
import { attachWsGateway, type WsGateway } from '../../src/gateway/ws/gateway.js';
import { createFsStore, openStore, type ChunkStore, type Store } from '../../src/index.js';
import { CHUNK, tempDir } from './core.js';

export interface Harness {
  url: string;
  port: number;
  store: Store;
  gateway: WsGateway;
  server: http.Server;
  dir: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  tokens?: string[];
  window?: number;
  maxFrameBytes?: number;
  uploadConcurrency?: number;
  downloadConcurrency?: number;
  /** Wraps the fs chunk store (to gate or slow its calls). */
  wrap?: (inner: ChunkStore) => ChunkStore;
  /** The store's clock (fakeClock().now) and upload TTL: expiry tests advance time instead of waiting. */
  now?: () => number;
  uploadTtlMs?: number;
}

/** A real http server on 127.0.0.1:0 with the gateway, over a real store in a temp dir. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = await tempDir('ws');
  const inner = createFsStore(dir, { fsync: false });
  const store = openStore({
    dir,
    chunkStore: options.wrap ? options.wrap(inner) : inner,
    chunkSize: CHUNK,
    fsync: false, // durability is the core tests' business; these test the protocol
    uploadConcurrency: options.uploadConcurrency,
    downloadConcurrency: options.downloadConcurrency,
    now: options.now,
    uploadTtlMs: options.uploadTtlMs,
  });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const gateway = attachWsGateway(server, {
    store,
    tokens: createTokenChecker(options.tokens ?? []),
    window: options.window,
    maxFrameBytes: options.maxFrameBytes,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}/v1/ws`,
    port,
    store,
    gateway,
    server,
    dir,
    async close() {
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

export { bytes, collect, CHUNK } from './core.js';

/** A latch: `wait()` resolves once `open()` was called. */
export function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, wait: () => opened };
}

/** Wraps a chunk store so that chunk writes wait for `g` (manifests and sessions pass). */
export function gateChunkPuts(g: ReturnType<typeof gate>) {
  return (inner: ChunkStore): ChunkStore => ({
    ...inner,
    name: 'gated-fs',
    put: async (key, data, o) => {
      if (key.startsWith('chunks/')) await g.wait();
      return inner.put(key, data, o);
    },
    get: (k, o) => inner.get(k, o),
    has: (k, o) => inner.has(k, o),
    delete: (k, o) => inner.delete(k, o),
    list: (p, o) => inner.list(p, o),
  });
}
