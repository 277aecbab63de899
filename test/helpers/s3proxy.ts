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
  /**
   * Answer ListObjectsV2 as S3 does, from s3rver's full listing: keys in UTF-8 byte order (s3rver
   * walks its directories, so `foo/a` comes before `foo+1/b`), CommonPrefixes merged with the keys
   * and counted against MaxKeys, StartAfter compared by bytes. Stands in for AWS's listing as
   * `conditional` does for its conditional writes.
   */
  sortedListing?: boolean;
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

  /** An unsigned request to s3rver (the client's signature covers the method and path it signed). */
  const plain = (method: string, path: string) =>
    new Promise<{ status: number | undefined; etag: string | undefined; body: Buffer }>((resolve, reject) => {
      const h = http.request({ host: upstream.hostname, port: upstream.port, method, path, agent }, (r) => {
        const parts: Buffer[] = [];
        r.on('data', (d: Buffer) => parts.push(d));
        r.on('end', () => resolve({ status: r.statusCode, etag: r.headers.etag, body: Buffer.concat(parts) }));
      });
      h.on('error', reject);
      h.end();
    });

  // If-None-Match: * (create only) and If-Match: ETag (replace or delete only that object), on PUT and DELETE.
  const conditionalPut = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) =>
    withLock(keyOf(req), async () => {
      const key = keyOf(req);
      const { status, etag } = await plain('HEAD', key);
      // s3rver answers 500 while another writer rewrites the object's metadata: undecided, retry.
      if (status !== 200 && status !== 404) return fail(res, 503, 'SlowDown', `existence check answered ${status}`);
      const ifMatch = req.headers['if-match'];
      const refused = ifMatch !== undefined ? status !== 200 || ifMatch !== etag : status === 200;
      if (refused) return fail(res, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      const out = await forward(req, body);
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    });

  const sortedList = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url!, 'http://x');
    const q = (k: string) => url.searchParams.get(k) ?? undefined;
    const prefix = q('prefix') ?? '';
    const delimiter = q('delimiter');
    const startAfter = q('start-after');
    const maxKeys = Number(q('max-keys') ?? 1000);
    const keys: { key: string; size: string; modified: string; etag: string }[] = [];
    let token: string | undefined;
    do {
      const page = await plain(
        'GET',
        `${url.pathname}?list-type=2&prefix=${encodeURIComponent(prefix)}${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`,
      );
      const xml = page.body.toString('utf8');
      for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const field = (f: string) => new RegExp(`<${f}>([\\s\\S]*?)</${f}>`).exec(m[1]!)?.[1] ?? '';
        keys.push({ key: unxml(field('Key')), size: field('Size'), modified: field('LastModified'), etag: field('ETag') });
      }
      token = /<IsTruncated>true<\/IsTruncated>/.test(xml) ? /<NextContinuationToken>([^<]*)</.exec(xml)?.[1] : undefined;
    } while (token);
    const bytes = (s: string) => Buffer.from(s, 'utf8');
    keys.sort((a, b) => Buffer.compare(bytes(a.key), bytes(b.key)));
    const items: { key: string; folder?: true; o?: (typeof keys)[number] }[] = [];
    for (const o of keys) {
      if (!o.key.startsWith(prefix) || (startAfter !== undefined && Buffer.compare(bytes(o.key), bytes(startAfter)) <= 0)) continue;
      const at = delimiter ? o.key.indexOf(delimiter, prefix.length) : -1;
      if (at < 0) items.push({ key: o.key, o });
      else {
        const folder = o.key.slice(0, at + delimiter!.length);
        if (items.at(-1)?.key !== folder) items.push({ key: folder, folder: true });
      }
    }
    const page = items.slice(0, maxKeys);
    const x = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${x(url.pathname.split('/')[1] ?? '')}</Name>` +
      `<Prefix>${x(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${items.length > maxKeys}</IsTruncated>` +
      page
        .map((i) =>
          i.folder
            ? `<CommonPrefixes><Prefix>${x(i.key)}</Prefix></CommonPrefixes>`
            : `<Contents><Key>${x(i.key)}</Key><LastModified>${i.o!.modified}</LastModified><ETag>${i.o!.etag}</ETag><Size>${i.o!.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
        )
        .join('') +
      `</ListBucketResult>`;
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(body);
  };

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
        options.conditional &&
        ((req.method === 'PUT' && req.headers['if-none-match'] === '*') ||
          (['PUT', 'DELETE'].includes(req.method!) && req.headers['if-match'])) &&
        !req.headers['x-amz-copy-source'];
      if (options.sortedListing && req.method === 'GET' && /[?&]list-type=2(&|$)/.test(req.url!)) return await sortedList(req, res);
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

function unxml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&amp;/g, '&');
}
