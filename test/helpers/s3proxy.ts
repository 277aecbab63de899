import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy does with one request. */
export type ProxyAction =
  | 'pass'
  /** Answer with an S3-style error, never forwarded. */
  | 500
  | 501
  | 503
  /** Read the whole request, then cut the connection without forwarding (the server never saw it). */
  | 'drop-request'
  /** Forward, then cut the connection halfway through the response body (or right after the headers). */
  | 'drop-response';

export interface ProxiedRequest {
  /** 1-based count of requests seen. */
  n: number;
  method: string;
  /** Path and query, e.g. `/bucket/prefix/chunks/ab/cd/…`. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Resolves when the client's connection closes (a client that gave up). */
  closed: Promise<void>;
}

export interface S3ProxyOptions {
  /** Decides each request's fate; may wait (to hold a request until a test releases it). */
  decide?: (req: ProxiedRequest) => ProxyAction | Promise<ProxyAction>;
  /**
   * Enforce `If-None-Match: *` on PutObject in front of a server that ignores it (s3rver): a
   * 412 when the object exists, checked and forwarded under a per-key lock.
   */
  conditional?: boolean;
  /**
   * Serialize every request to the same object path, as if writes were atomic. s3rver rewrites
   * an object's data and metadata files in place, so a concurrent read can see them torn (a 500
   * or a short body); real S3 never shows that, and the tests are about our code, not s3rver's.
   */
  atomic?: boolean;
}

export interface S3ProxyHandle {
  endpoint: string;
  /** Emits `request` (ProxiedRequest) as each request arrives, `fault` ({ n, action }) per fault. */
  events: EventEmitter;
  /** Count of faults injected, by action. */
  faults: Record<string, number>;
  close(): Promise<void>;
}

/** A fault-injecting HTTP proxy on 127.0.0.1 in front of an S3 endpoint; deterministic by request count. */
export async function startS3Proxy(target: string, options: S3ProxyOptions = {}): Promise<S3ProxyHandle> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const events = new EventEmitter();
  const faults: Record<string, number> = {};
  const locks = new Map<string, Promise<void>>();
  const sockets = new Set<Socket>();
  let n = 0;

  const forward = (req: http.IncomingMessage, body: Buffer, method = req.method!) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const out = http.request(
        { host: upstream.hostname, port: upstream.port, method, path: req.url, headers: req.headers, agent },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(parts) }));
          res.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(method === 'HEAD' ? undefined : body);
    });

  const fail = (res: http.ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`);
  };

  const withLock = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    locks.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (locks.get(key) === tail) locks.delete(key);
    }
  };
  const keyOf = (req: http.IncomingMessage) => req.url!.split('?')[0]!;

  const conditionalPut = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) =>
    withLock(keyOf(req), async () => {
      const key = keyOf(req);
      // A signed HEAD of the same path: the client's signature covers method, so ask unsigned.
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const h = http.request({ host: upstream.hostname, port: upstream.port, method: 'HEAD', path: key, agent }, (r) => {
          r.resume();
          r.on('end', () => resolve(r.statusCode));
        });
        h.on('error', reject);
        h.end();
      });
      if (status === 200) return fail(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      // s3rver answers 500 while another writer rewrites the object's metadata: undecided, retry.
      if (status !== 404) return fail(res, 503, 'SlowDown', `existence check answered ${status}`);
      const out = await forward(req, body);
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const body = Buffer.concat(parts);
    const seen: ProxiedRequest = {
      n: ++n,
      method: req.method!,
      url: req.url!,
      headers: req.headers,
      // Lazy: a keep-alive socket serves many requests, and only a test that asks should listen.
      get closed() {
        return req.socket.destroyed ? Promise.resolve() : new Promise<void>((r) => req.socket.once('close', () => r()));
      },
    };
    events.emit('request', seen);
    try {
      const action = (await options.decide?.(seen)) ?? 'pass';
      if (req.socket.destroyed) return; // the client gave up while the request was held
      if (action !== 'pass') {
        faults[action] = (faults[action] ?? 0) + 1;
        events.emit('fault', { n: seen.n, action });
      }
      if (action === 500) return fail(res, 500, 'InternalError', 'injected fault');
      if (action === 501) return fail(res, 501, 'NotImplemented', 'A header you provided implies functionality that is not implemented');
      if (action === 503) return fail(res, 503, 'SlowDown', 'injected fault');
      if (action === 'drop-request') return void req.socket.destroy();
      const isConditional =
        options.conditional && req.method === 'PUT' && req.headers['if-none-match'] === '*' && !req.headers['x-amz-copy-source'];
      if (isConditional && action === 'pass') return await conditionalPut(req, body, res);
      const out = options.atomic ? await withLock(keyOf(req), () => forward(req, body)) : await forward(req, body);
      if (action === 'drop-response') {
        // An empty body (PUT, DELETE): the server acted, the client never hears of it.
        if (out.body.byteLength === 0) return void req.socket.destroy();
        res.writeHead(out.status, { ...out.headers, 'content-length': String(out.body.byteLength) });
        res.write(out.body.subarray(0, Math.floor(out.body.byteLength / 2)), () => req.socket.destroy());
        return;
      }
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    } catch (err) {
      if (!res.headersSent) fail(res, 502, 'ProxyError', (err as Error).message);
      else req.socket.destroy();
    }
  };
  const server = http.createServer((req, res) => void handle(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    events,
    faults,
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
