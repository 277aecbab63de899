import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkId } from '../catalog/model.js';
import type { Store } from '../engine/store.js';
import { BadRequestError, NotFoundError, AbortError, MethodNotAllowedError, PreconditionFailedError } from '../errors.js';
import { bearerToken, createTokenChecker, type TokenChecker } from './auth.js';
import { resolveBudgetLimit, TransferBudget } from '../engine/admission.js';
import { evaluatePreconditions } from './http-conditional.js';
import { applyCors } from './http-cors.js';
import { serveFile } from './http-download.js';
import type { RequestGuard } from './http-guard.js';
import { authorizeLink, createLink, type LinkContext } from './http-links.js';
import { validators } from './http-representation.js';
import { receiveFile } from './http-upload.js';
import { uploadsRoute } from './http-uploads.js';
import { sendError, sendJson } from './http-util.js';
import { linkSecretProvider } from './link-secret.js';
import { createTusHandler } from './tus.js';
import type { WebAssets } from './web.js';
import type { GcOptions, GcReport } from '../engine/gc-types.js';
import type { OpsRoutes } from './ops.js';
import { UnauthorizedError } from '../protocol/errors.js';

export interface HttpHandlerOptions {
  store: Store;
  /** Bearer tokens; empty means no auth (the server refuses that on a non-loopback host). */
  tokens?: readonly string[];
  /** A checker shared with the WebSocket gateway (wins over `tokens`). */
  auth?: TokenChecker;
  /** An upload body silent for this long fails with 408 `timeout` (default 120 s). */
  bodyIdleTimeoutMs?: number;
  /** The server-wide transfer budget (shared with the WebSocket gateway); default: its own, 1 GiB. */
  budget?: TransferBudget;
  /** Host / Origin / CORS policy (http-guard.ts), shared with the WebSocket gateway; none: no checks. */
  guard?: RequestGuard;
  /** HMAC key of signed links; default: generated once and kept in the store (link-secret.ts). */
  linkSecret?: () => Promise<Uint8Array>;
  /** Base of signed link URLs (`--public-url`); default `http://` + the request's Host. */
  publicUrl?: string;
  /** The server's own URL, for link URLs when a request has no Host header. */
  serverUrl?: () => string | undefined;
  /** The web page's static files (web.ts): served before auth, since the page itself asks for the token. */
  web?: WebAssets;
  /** /healthz (draining-aware), /readyz and /metrics (ops.ts); without it /healthz just answers ok. */
  ops?: OpsRoutes;
  /** Runs POST /v1/gc (the server's gc runner, under the store's gc lease); default store.gc. */
  runGc?: (options: GcOptions) => Promise<GcReport>;
}

export type HttpHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  /** Aborts every request in flight (server shutdown). Uploads are then never committed. */
  abortAll(reason?: unknown): void;
  /** Requests in flight. */
  readonly active: number;
  /** Whether some route here answers `method` on `path` (the web page's feature detection). */
  answers(method: string, path: string): boolean;
};

type Route = { allow: string[]; run: (ctx: Ctx) => Promise<void> };
interface Ctx {
  store: Store;
  url: URL;
  id?: string;
  req: IncomingMessage;
  res: ServerResponse;
  signal: AbortSignal;
}

const noBody = ({ res }: Ctx): void => void res.writeHead(204).end();

/**
 * The HTTP API (v1). Routes:
 *   GET  /healthz, /readyz        open even with auth on (load balancers); /readyz checks the store (ops.ts)
 *   GET  /metrics                 Prometheus text (with ops; behind auth unless metricsPublic)
 *   GET  /v1/files                { files: FileInfo[] }
 *   PUT  /v1/files?name=NAME      streamed body → 201 FileInfo
 *   GET|HEAD /v1/files/:id        bytes (conditional, Range, multipart); a signed link needs no token
 *   DELETE /v1/files/:id          204 (If-Match, If-Unmodified-Since)
 *   POST /v1/files/:id/links      { expiresIn } → { url, expires }: a signed link
 *   GET  /v1/files/:id/meta       FileInfo
 *   POST /v1/files/:id/verify     VerifyReport of one file
 *   POST /v1/verify, POST /v1/gc  whole-store maintenance (for `chunkstream --server`)
 *   GET /v1/uploads, GET|DELETE /v1/uploads/:id   unfinished uploads (http-uploads.ts)
 */
export function createHttpHandler(options: HttpHandlerOptions): HttpHandler {
  const { store } = options;
  const bodyIdleTimeoutMs = options.bodyIdleTimeoutMs ?? 120_000;
  const auth = options.auth ?? createTokenChecker(options.tokens ?? []);
  const inFlight = new Set<AbortController>();
  const budget = options.budget ?? new TransferBudget(resolveBudgetLimit(undefined, { ...store.options, window: 0 }));
  const { guard } = options;
  const links: LinkContext = {
    store,
    secret: options.linkSecret ?? linkSecretProvider(store.chunkStore),
    publicUrl: options.publicUrl,
    serverUrl: options.serverUrl,
  };
  const tus = createTusHandler({ store, budget, bodyIdleTimeoutMs, publicUrl: options.publicUrl }); // /v1/tus/ (tus.ts)

  const route = (path: string): { route: Route; id?: string } | undefined => {
    const { ops } = options;
    if (path === '/healthz')
      return { route: { allow: ['GET', 'HEAD'], run: async ({ res }) => (ops ? ops.health(res) : sendJson(res, 200, { ok: true })) } };
    if (path === '/readyz' && ops) return { route: { allow: ['GET', 'HEAD'], run: async ({ res, signal }) => ops.ready(res, signal) } };
    if (path === '/metrics' && ops?.metrics) return { route: { allow: ['GET', 'HEAD'], run: async ({ res }) => ops.metrics!(res) } };
    if (path === '/v1/files') {
      return {
        route: {
          allow: ['GET', 'HEAD', 'PUT'],
          run: async (c) =>
            c.req.method === 'PUT' ? receiveFile(c.store, c.url, c.req, c.res, c.signal, bodyIdleTimeoutMs, budget) : list(c),
        },
      };
    }
    if (path === '/v1/gc') return { route: { allow: ['POST'], run: gc } };
    const uploads = uploadsRoute(path);
    if (uploads) return { route: uploads };
    if (path === '/v1/verify') {
      return { route: { allow: ['POST'], run: async (c) => sendJson(c.res, 200, await c.store.verify(undefined, { signal: c.signal })) } };
    }
    const m = /^\/v1\/files\/([^/]*)(\/meta|\/verify|\/links)?$/.exec(path);
    if (!m) return undefined;
    // Split before decoding: an encoded "/" (`..%2F..%2Fetc`) stays inside the id and fails checkId.
    const id = checkId(decode(m[1]!));
    if (m[2] === '/meta')
      return {
        id,
        route: { allow: ['GET', 'HEAD'], run: async (c) => sendJson(c.res, 200, await c.store.stat(id, { signal: c.signal })) },
      };
    if (m[2] === '/verify')
      return { id, route: { allow: ['POST'], run: async (c) => sendJson(c.res, 200, await c.store.verify(id, { signal: c.signal })) } };
    if (m[2] === '/links') return { id, route: { allow: ['POST'], run: async (c) => createLink(links, id, c.req, c.res, c.signal) } };
    return {
      id,
      route: {
        allow: ['GET', 'HEAD', 'DELETE'],
        run: async (c) => (c.req.method === 'DELETE' ? remove(c, id) : serveFile(c.store, id, c.req, c.res, c.signal, { budget })),
      },
    };
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const controller = new AbortController();
    inFlight.add(controller);
    // 'close' before the response finished = the client went away: abort reads and uploads.
    res.once('close', () => {
      inFlight.delete(controller);
      if (!res.writableFinished) controller.abort(new AbortError('the client closed the connection'));
    });
    void handle(req, res, controller.signal).catch((err) => sendError(res, err));
  };

  // Probes are open even with auth on (load balancers, orchestrators); /metrics only with metricsPublic.
  const open = (path: string) => path === '/healthz' || path === '/readyz' || (path === '/metrics' && options.ops?.metricsPublic === true);

  const handle = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    // Browser defences first, on every route: a refused request learns nothing else.
    const refused = guard?.checkHost(req.headers.host) ?? guard?.checkOrigin(req.headers.origin, req.headers.host);
    if (refused) return sendError(res, refused);
    if (guard && applyCors(guard, req, res)) return; // a preflight, answered
    const url = parseUrl(req.url ?? '/');
    if (options.web?.serve(req, res, url)) return;
    const method = req.method ?? 'GET';
    const link = await authorizeLink(links, url, method); // 403 for an expired or forged link
    if (link) return serveFile(store, link.id, req, res, signal, { budget, maxAgeS: link.remainingS });
    if (!open(url.pathname) && !auth.check(bearerToken(req.headers.authorization))) {
      const error = req.headers.authorization ? 'invalid_token' : undefined;
      const message = error ? 'the bearer token is not valid' : 'an Authorization: Bearer <token> header is required';
      sendError(res, new UnauthorizedError(message), {
        'WWW-Authenticate': `Bearer realm="chunkstream"${error ? `, error="${error}"` : ''}`,
      });
      return;
    }
    if (tus.handles(url.pathname)) return tus.handle(req, res, url.pathname, signal);
    const found = route(url.pathname);
    if (!found) throw new NotFoundError(`route ${url.pathname.slice(0, 200)}`);
    if (!found.route.allow.includes(method)) {
      sendError(res, new MethodNotAllowedError(`${method} is not allowed on ${url.pathname.slice(0, 200)}`), {
        Allow: found.route.allow.join(', '),
      });
      return;
    }
    await found.route.run({ store, url, id: found.id, req, res, signal });
  };

  // If-Match / If-Unmodified-Since / If-None-Match hold or the file stays (412).
  const remove = async (c: Ctx, id: string) => {
    const m = await c.store.manifest(id, { signal: c.signal });
    if (evaluatePreconditions('DELETE', c.req.headers, validators(m)) !== 'proceed') {
      throw new PreconditionFailedError('the file has another ETag or changed after the date: it was not deleted');
    }
    await c.store.remove(id, { signal: c.signal });
    noBody(c);
  };

  // ?graceMs=N&dryRun=1 mirror `chunkstream gc --grace-ms N --dry-run`.
  const gc = async ({ store, url, res, signal }: Ctx) => {
    const grace = url.searchParams.get('graceMs');
    const graceMs = grace === null ? undefined : Number(grace);
    if (graceMs !== undefined && !(Number.isSafeInteger(graceMs) && graceMs >= 0))
      throw new BadRequestError('graceMs', 'must be a non-negative integer');
    const dryRun = ['1', 'true'].includes(url.searchParams.get('dryRun') ?? '');
    sendJson(res, 200, await (options.runGc ?? store.gc)({ graceMs, dryRun, signal }));
  };

  const list = async ({ store, res, signal }: Ctx) => sendJson(res, 200, { files: await store.list({ signal }) });

  return Object.assign(handler, {
    abortAll(reason?: unknown) {
      for (const c of inFlight) c.abort(reason ?? new AbortError('the server is shutting down'));
    },
    get active() {
      return inFlight.size;
    },
    answers(method: string, path: string) {
      try {
        return route(path)?.route.allow.includes(method) ?? false;
      } catch {
        return false;
      }
    },
  });
}

function parseUrl(target: string): URL {
  try {
    return new URL(target, 'http://localhost');
  } catch {
    throw new BadRequestError('url', 'malformed request target');
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError('id', 'malformed percent-encoding');
  }
}
