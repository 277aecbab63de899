import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { NotFoundError } from '../errors.js';
import { etagMatches } from './http/conditional.js';
import { sendError, sendJson } from './http/respond.js';
import type { Route } from './routes.js';

/** What the page needs to know before it connects (GET /config.json). */
export interface WebConfig {
  /** The server wants a bearer token: the page asks for one first. */
  auth: boolean;
  /** `POST /v1/files/ID/links` (signed links) exists: the page offers share links. */
  links: boolean;
}

export interface WebAssets {
  /** The page's files and /config.json, open routes (served before auth: the page itself asks for the token). */
  readonly routes: readonly Route<{ req: IncomingMessage; res: ServerResponse }>[];
  /** False when dist/web was not built: `/` then says so. */
  readonly built: boolean;
}

/**
 * The fixed set of files the page consists of, by URL path. Nothing else is ever read from disk,
 * so no request path can reach another file (no traversal to guard against); all are read once,
 * at start.
 */
const FILES: Record<string, [file: string, type: string]> = {
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/app.css': ['app.css', 'text/css; charset=utf-8'],
  '/client.js': ['client.js', 'text/javascript; charset=utf-8'],
  // client.js starts it as new URL('./hash-worker.js', import.meta.url): chunk SHA-256 off the page's thread.
  '/hash-worker.js': ['hash-worker.js', 'text/javascript; charset=utf-8'],
  '/favicon.svg': ['favicon.svg', 'image/svg+xml'],
  // Browsers ask for it on any document without an icon link (/client.js opened directly, say).
  '/favicon.ico': ['favicon.svg', 'image/svg+xml'],
};
const CONFIG_PATH = '/config.json';

/**
 * Only the page's own files, its own origin's API and WebSocket (`'self'` covers ws:/wss: of the
 * same host), no inline script or style, no framing. The SDK's zod runs without eval (browser.ts).
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'Content-Security-Policy': PAGE_CSP,
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

interface Asset {
  type: string;
  body: Buffer;
  etag: string;
  gzip?: { body: Buffer; etag: string };
  headers: Record<string, string>;
}

/** dist/web, seen from dist/gateway/web.js or, under tsx and vitest, from src/gateway/web.ts. */
export function defaultWebDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../web'), path.resolve(here, '../../dist/web')];
  return candidates.find((d) => Object.values(FILES).every(([f]) => existsSync(path.join(d, f)))) ?? candidates[0]!;
}

export function loadWebAssets(config: () => WebConfig, dir = defaultWebDir()): WebAssets {
  const assets = new Map<string, Asset>();
  const built = Object.values(FILES).every(([f]) => existsSync(path.join(dir, f)));
  if (built) {
    for (const [route, [file, type]] of Object.entries(FILES)) {
      const body = readFileSync(path.join(dir, file));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      const zipped = gzipSync(body, { level: 9 });
      const gzip = zipped.length < body.length * 0.9 ? { body: zipped, etag: `${etag.slice(0, -1)}-gz"` } : undefined;
      assets.set(route, { type, body, etag, gzip, headers: route === '/index.html' ? PAGE_HEADERS : {} });
    }
  }

  const route = (template: string, run: Route<{ req: IncomingMessage; res: ServerResponse }>['run']) =>
    ({ template, methods: ['GET', 'HEAD'], access: 'open', label: 'web', run }) as const;
  const page = async ({ req, res }: { req: IncomingMessage; res: ServerResponse }) => {
    const asset = assets.get('/index.html');
    if (asset) send(req, res, asset);
    else sendError(res, new NotFoundError('web page', 'the web page was not built: run "npm run build"'));
  };
  return {
    built,
    routes: [
      route('/', page),
      route('/index.html', page),
      route(CONFIG_PATH, async ({ res }) => sendJson(res, 200, config())),
      ...[...assets]
        .filter(([path]) => path !== '/index.html')
        .map(([path, asset]) => route(path, async ({ req, res }) => send(req, res, asset))),
    ],
  };
}

function send(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  const zipped = asset.gzip && acceptsGzip(req.headers['accept-encoding']) ? asset.gzip : undefined;
  const { body, etag } = zipped ?? asset;
  // No-cache = revalidate every time: the names are fixed (/client.js is a public URL), so a
  // long max-age would keep a browser on an old page after an upgrade. A 304 costs one round trip.
  const headers: Record<string, string | number> = {
    ...asset.headers,
    'Content-Type': asset.type,
    'Cache-Control': 'no-cache',
    ETag: etag,
    Vary: 'Accept-Encoding',
    'X-Content-Type-Options': 'nosniff',
  };
  if (etagMatches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  if (zipped) headers['Content-Encoding'] = 'gzip';
  headers['Content-Length'] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** `gzip` listed without `q=0` (RFC 9110 § 12.5.3); `*` counts too. */
function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') return false;
    const q = params.map((p) => /^\s*q\s*=\s*([\d.]+)\s*$/.exec(p)).find(Boolean);
    return !q || Number(q[1]) > 0;
  });
}
