import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkId } from '../catalog/model.js';
import { BadRequestError, NotFoundError, AbortError, MethodNotAllowedError, PreconditionFailedError } from '../errors.js';
import { bearerToken, createTokenChecker } from './auth.js';
import { resolveOptions } from '../internal/options.js';
import { resolveBudgetLimit, TransferBudget } from '../engine/admission.js';
import { evaluatePreconditions } from './http/conditional.js';
import { applyCors } from './http/cors.js';
import { serveFile } from './api/download.js';
import { authorizeLink, createLink, type LinkContext } from './api/links.js';
import { validators } from './http/representation.js';
import { HTTP_DEFAULTS, httpHandlerOptionsSchema, type HttpHandlerOptions, type RequestContext } from './handler-options.js';
import { receiveFile } from './api/upload.js';
import { uploadsRoute } from './api/uploads.js';
import { sendError, sendJson } from './http/respond.js';
import { linkSecretProvider } from './link-secret.js';
import { checkTransferCoding } from './http/edges.js';
import { UnauthorizedError } from '../protocol/errors.js';

export type { HttpHandlerOptions };

export type HttpHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  /** Aborts every request in flight (server shutdown). Uploads are then never committed. */
  abortAll(reason?: unknown): void;
  /** Requests in flight. */
  readonly active: number;
  /** Resolves once no request is in flight: each one's response closed (and its access log line was written). */
  idle(): Promise<void>;
  /** Whether some route here answers `method` on `path` (the web page's feature detection). */
  answers(method: string, path: string): boolean;
};

type Route = { allow: string[]; run: (ctx: RequestContext) => Promise<void> };

const noBody = ({ res }: RequestContext): void => void res.writeHead(204).end();

/**
 * The HTTP API (v1). Routes:
 *   GET  /healthz, /readyz        open even with auth on (load balancers); /readyz checks the store (ops/probes.ts)
 *   GET  /metrics                 Prometheus text (with ops; behind auth unless metricsPublic)
 *   GET  /v1/files                { files: FileInfo[] }
 *   PUT  /v1/files?name=NAME      streamed body → 201 FileInfo
 *   GET|HEAD /v1/files/:id        bytes (conditional, Range, multipart); a signed link needs no token
 *   DELETE /v1/files/:id          204 (If-Match, If-Unmodified-Since)
 *   POST /v1/files/:id/links      { expiresIn } → { url, expires }: a signed link
 *   GET  /v1/files/:id/meta       FileInfo
 *   POST /v1/files/:id/verify     VerifyReport of one file
 *   POST /v1/verify, POST /v1/gc  whole-store maintenance (for `chunkstream --server`)
 *   GET /v1/uploads, GET|DELETE /v1/uploads/:id   unfinished uploads (api/uploads.ts)
 */
export function createHttpHandler(input: HttpHandlerOptions): HttpHandler {
  const options = resolveOptions(httpHandlerOptionsSchema, HTTP_DEFAULTS, input);
  const { store, bodyIdleTimeoutMs, sendTimeoutMs } = options;
  const auth = options.auth ?? createTokenChecker(options.tokens ?? []);
  const inFlight = new Set<AbortController>();
  const idleWaiters: (() => void)[] = [];
  const budget = options.budget ?? new TransferBudget(resolveBudgetLimit(undefined, { ...store.options, window: 0 }));
  const { guard } = options;
  const links: LinkContext = {
    store,
    secret: options.linkSecret ?? linkSecretProvider(store.chunkStore),
    publicUrl: options.publicUrl,
    serverUrl: options.serverUrl,
  };
  const mounts = options.mounts ?? [];

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
          run: async (c) => (c.req.method === 'PUT' ? receiveFile(c) : list(c)),
        },
      };
    }
    if (path === '/v1/gc') return { route: { allow: ['POST'], run: gc } };
    const uploads = uploadsRoute(path);
    if (uploads) return { route: uploads };
    if (path === '/v1/verify') return { route: { allow: ['POST'], run: (c) => verify(c) } };
    const m = /^\/v1\/files\/([^/]*)(\/meta|\/verify|\/links)?$/.exec(path);
    if (!m) return undefined;
    // Split before decoding: an encoded "/" (`..%2F..%2Fetc`) stays inside the id and fails checkId.
    const id = checkId(decode(m[1]!));
    if (m[2] === '/meta')
      return {
        id,
        route: { allow: ['GET', 'HEAD'], run: async (c) => sendJson(c.res, 200, await c.store.stat(id, { signal: c.signal })) },
      };
    if (m[2] === '/verify') return { id, route: { allow: ['POST'], run: (c) => verify(c, id) } };
    if (m[2] === '/links') return { id, route: { allow: ['POST'], run: async (c) => createLink(links, id, c.req, c.res, c.signal) } };
    return {
      id,
      route: {
        allow: ['GET', 'HEAD', 'DELETE'],
        run: async (c) => (c.req.method === 'DELETE' ? remove(c, id) : serveFile(c, id)),
      },
    };
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const controller = new AbortController();
    inFlight.add(controller);
    // 'close' before the response finished = the client went away: abort reads and uploads.
    res.once('close', () => {
      inFlight.delete(controller);
      if (inFlight.size === 0) for (const wake of idleWaiters.splice(0)) wake();
      if (!res.writableFinished) controller.abort(new AbortError('the client closed the connection'));
    });
    void handle(req, res, controller.signal).catch((err) => sendError(res, err));
  };

  // Probes are open even with auth on (load balancers, orchestrators); /metrics only with metricsPublic.
  const open = (path: string) => path === '/healthz' || path === '/readyz' || (path === '/metrics' && options.ops?.metricsPublic === true);

  const handle = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> => {
    // A mount's own headers go on every answer under it, refusals (401, 403, 421) too.
    const path = pathOf(req.url);
    const mount = mounts.find((m) => m.handles(path));
    for (const [name, value] of Object.entries(mount?.headers ?? {})) res.setHeader(name, value);
    // Browser defences first, on every route: a refused request learns nothing else.
    const refused = guard?.checkRequest(req);
    if (refused) return sendError(res, refused);
    // A body in a coding we do not decode is never read: Connection: close drops the rest of it.
    const coding = checkTransferCoding(req);
    if (coding) return sendError(res, coding, { Connection: 'close' });
    if (guard && applyCors(guard, req, res)) return; // a preflight, answered
    const url = parseUrl(req.url ?? '/');
    if (options.web?.serve(req, res, url)) return;
    const method = req.method ?? 'GET';
    const c: RequestContext = { store, budget, bodyIdleTimeoutMs, sendTimeoutMs, url, req, res, signal };
    const link = await authorizeLink(links, url, method); // 403 for an expired or forged link
    if (link) return serveFile(c, link.id, { maxAgeS: link.remainingS });
    if (!open(url.pathname) && !auth.check(bearerToken(req.headers.authorization))) {
      const error = req.headers.authorization ? 'invalid_token' : undefined;
      const message = error ? 'the bearer token is not valid' : 'an Authorization: Bearer <token> header is required';
      sendError(res, new UnauthorizedError(message), {
        'WWW-Authenticate': `Bearer realm="chunkstream"${error ? `, error="${error}"` : ''}`,
      });
      return;
    }
    if (mount) return mount.handle(req, res, url.pathname, signal);
    const found = route(url.pathname);
    if (!found) throw new NotFoundError(`route ${url.pathname.slice(0, 200)}`);
    if (!found.route.allow.includes(method)) {
      sendError(res, new MethodNotAllowedError(`${method} is not allowed on ${url.pathname.slice(0, 200)}`), {
        Allow: found.route.allow.join(', '),
      });
      return;
    }
    await found.route.run({ ...c, id: found.id });
  };

  // If-Match / If-Unmodified-Since / If-None-Match hold or the file stays (412).
  const remove = async (c: RequestContext, id: string) => {
    const m = await c.store.manifest(id, { signal: c.signal });
    if (evaluatePreconditions('DELETE', c.req.headers, validators(m)) !== 'proceed') {
      throw new PreconditionFailedError('the file has another ETag or changed after the date: it was not deleted');
    }
    await c.store.remove(id, { signal: c.signal });
    noBody(c);
  };

  // ?graceMs=N&dryRun=1 mirror `chunkstream gc --grace-ms N --dry-run`.
  const gc = async ({ store, url, res, signal }: RequestContext) => {
    const grace = url.searchParams.get('graceMs');
    const graceMs = grace === null ? undefined : Number(grace);
    if (graceMs !== undefined && !(Number.isSafeInteger(graceMs) && graceMs >= 0))
      throw new BadRequestError('graceMs', 'must be a non-negative integer');
    const dryRun = ['1', 'true'].includes(url.searchParams.get('dryRun') ?? '');
    sendJson(res, 200, await (options.runGc ?? store.gc)({ graceMs, dryRun, signal }));
  };

  // ?repair=1 mirrors `chunkstream verify --repair`: the files that named a damaged chunk, whole or not.
  const verify = async ({ store, url, res, signal }: RequestContext, id?: string) => {
    const repair = ['1', 'true'].includes(url.searchParams.get('repair') ?? '');
    sendJson(res, 200, repair ? await store.repair(id, { signal }) : await store.verify(id, { signal }));
  };

  const list = async ({ store, res, signal }: RequestContext) => sendJson(res, 200, { files: await store.list({ signal }) });

  return Object.assign(handler, {
    abortAll(reason?: unknown) {
      for (const c of inFlight) c.abort(reason ?? new AbortError('the server is shutting down'));
    },
    get active() {
      return inFlight.size;
    },
    idle: () => (inFlight.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    answers(method: string, path: string) {
      try {
        return route(path)?.route.allow.includes(method) ?? false;
      } catch {
        return false;
      }
    },
  });
}

/** The path of a target as routes see it (absolute-form included), or '' if it does not parse. */
function pathOf(target = '/'): string {
  try {
    return new URL(target, 'http://localhost').pathname;
  } catch {
    return '';
  }
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
