import http from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import { Duplex } from 'node:stream';
import { createFsStore, openStore, type ChunkStore, type Store, type StoreOptions } from '../../src/index.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/gateway/server.js';
import { CHUNK, tempDir } from './core.js';

export { CHUNK } from './core.js';

/** Counts chunk reads the way a backend sees them: started, settled, and aborted by the caller. */
export interface ReadLog {
  started: number;
  settled: number;
  /** Signals of the reads not settled yet. */
  inflight: Set<AbortSignal>;
  /** Called after each chunk read settled (the engine got the bytes or the error). */
  onSettled?: () => void;
  /** Called after each chunk write completed. */
  onChunkStored?: () => void;
}

export interface TestServer {
  running: RunningServer;
  url: string;
  dir: string;
  store: Store;
  reads: ReadLog;
  close(): Promise<void>;
}

function logged(inner: ChunkStore, log: ReadLog): ChunkStore {
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    async put(k, d, o) {
      const r = await inner.put(k, d, o);
      if (k.startsWith('chunks/')) setImmediate(() => log.onChunkStored?.());
      return r;
    },
    async get(k, o) {
      if (!k.startsWith('chunks/')) return inner.get(k, o);
      log.started++;
      const signal = o?.signal ?? new AbortController().signal;
      log.inflight.add(signal);
      try {
        return await inner.get(k, o);
      } finally {
        log.settled++;
        log.inflight.delete(signal);
        setImmediate(() => log.onSettled?.());
      }
    },
    has: (k, o) => inner.has(k, o),
    delete: (k, o) => inner.delete(k, o),
    list: (p, o) => inner.list(p, o),
    move: inner.move?.bind(inner),
    sweep: inner.sweep?.bind(inner),
    close: inner.close?.bind(inner),
    ...(inner.names ? { names: inner.names } : {}),
  };
}

/** A real server on 127.0.0.1:0 over a temp fs store with 64 KiB chunks (`dir`: reuse a store directory). */
export async function startTestServer(
  o: {
    tokens?: string[];
    downloadConcurrency?: number;
    dir?: string;
    server?: Omit<ServerOptions, 'store' | 'port' | 'host' | 'tokens'>;
    /** More store options (maxFileSize, uploadTtlMs, …). */
    store?: Omit<StoreOptions, 'chunkStore' | 'dir'>;
  } = {},
): Promise<TestServer> {
  const dir = o.dir ?? (await tempDir('http'));
  const reads: ReadLog = { started: 0, settled: 0, inflight: new Set() };
  const chunkStore = logged(createFsStore(dir, { fsync: false }), reads);
  const store = openStore({ chunkSize: CHUNK, downloadConcurrency: o.downloadConcurrency ?? 2, ...o.store, chunkStore });
  const running = await startServer({ ...o.server, store, port: 0, host: '127.0.0.1', tokens: o.tokens });
  return {
    running,
    url: running.url,
    dir,
    store,
    reads,
    async close() {
      await running.close();
      await store.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json<T = any>(): T;
}

/** One request on its own connection (no pooling to outlive a test); the whole body is read. */
export function request(
  url: string,
  o: { method?: string; headers?: Record<string, string | number>; body?: Uint8Array } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'GET', headers: o.headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

export async function upload(url: string, name: string, data: Uint8Array, headers: Record<string, string> = {}) {
  const r = await request(`${url}/v1/files?name=${encodeURIComponent(name)}`, { method: 'PUT', body: data, headers });
  if (r.status !== 201) throw new Error(`upload failed: ${r.status} ${r.body.toString()}`);
  return r.json<{ id: string; size: number; sha256: string; name: string }>();
}

/**
 * An in-memory socket pair with exact backpressure: a write completes only once the other end's
 * reader took it. Injected into the real server (`server.emit('connection', end)`), it takes
 * kernel buffers out of a backpressure test: a paused reader stops the server deterministically.
 */
export function socketPair(): [PairEnd, PairEnd] {
  const a = new PairEnd();
  const b = new PairEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export class PairEnd extends Duplex {
  peer!: PairEnd;
  private waiting: (() => void) | undefined;
  remoteAddress = '127.0.0.1';
  override _read(): void {
    const w = this.peer.waiting;
    this.peer.waiting = undefined;
    w?.();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.peer.push(chunk)) cb();
    else this.waiting = cb;
  }
  override _final(cb: () => void): void {
    this.peer.push(null);
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.destroy();
    cb(err);
  }
  setTimeout(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
}

/**
 * One test server for the describe block (or file) this is called in: started in its beforeAll,
 * closed in its afterAll. The handle reads through to the running server, so use it in tests and
 * hooks, not while tests are being declared.
 */
export function testServerPerSuite(o: Parameters<typeof startTestServer>[0] = {}): TestServer {
  let running: TestServer | undefined;
  beforeAll(async () => {
    running = await startTestServer(o);
  });
  afterAll(async () => {
    await running?.close();
  });
  return new Proxy({} as TestServer, {
    get(_target, key) {
      if (!running) throw new Error(`the suite's test server is not running (read ${String(key)} outside a test)`);
      const value: unknown = Reflect.get(running, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(running) : value;
    },
  });
}
