import { clientKey } from './client-key.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestError, NotFoundError, AbortError, MethodNotAllowedError } from '../errors.js';
import { bearerToken, createTokenChecker } from './auth.js';
import { resolveOptions } from '../internal/options.js';
import { resolveBudgetLimit, TransferBudget } from '../engine/budget.js';
import { applyCors } from './http/cors.js';
import { authorizeLink, type LinkContext } from './api/links.js';
import { apiRoutes } from './api/routes.js';
import { HTTP_DEFAULTS, httpHandlerOptionsSchema, type HttpHandlerOptions, type RequestContext } from './handler-options.js';
import { sendError } from './http/respond.js';
import { linkSecretProvider } from './link-secret.js';
import { checkTransferCoding } from './http/edges.js';
import type { RequestRecord } from './ops/meter.js';
import { probeRoutes } from './ops/probes.js';
import { routeTable } from './routes.js';
import { UnauthorizedError } from '../protocol/errors.js';

export type { HttpHandlerOptions };

export type HttpHandler = ((req: IncomingMessage, res: ServerResponse, record?: RequestRecord) => void) & {
  /** Aborts every request in flight (server shutdown). Uploads are then never committed. */
  abortAll(reason?: unknown): void;
  /** Requests in flight. */
  readonly active: number;
  /** Resolves once no request is in flight: each one's response closed (and its access log line was written). */
  idle(): Promise<void>;
  /** Whether some route here answers `method` on `path` (the web page's feature detection). */
  answers(method: string, path: string): boolean;
  /** The route label of a path (access log, metrics): a route's template, a mount's label, else `other`. */
  routeOf(path: string): string;
};

/**
 * The HTTP base every protocol shares: each request passes the browser guard, the transfer-coding
 * check and CORS, then the route table (probes, the web page, the /v1 API: ops/probes.ts, web.ts,
 * api/routes.ts) or a mount (tus) decides; auth is the route's `access`.
 */
export function createHttpHandler(input: HttpHandlerOptions): HttpHandler {
  const options = resolveOptions(httpHandlerOptionsSchema, HTTP_DEFAULTS, input);
  const { store, bodyIdleTimeoutMs, sendTimeoutMs } = options;
  const keyOf = options.clientKey ?? clientKey;
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
  const table = routeTable<RequestContext>([
    ...probeRoutes(options.ops),
    ...(options.web?.routes ?? []),
    ...apiRoutes({ links, runGc: options.runGc }),
  ]);

  const handler = (req: IncomingMessage, res: ServerResponse, record?: RequestRecord): void => {
    const controller = new AbortController();
    inFlight.add(controller);
    // 'close' before the response finished = the client went away: abort reads and uploads.
    res.once('close', () => {
      inFlight.delete(controller);
      if (inFlight.size === 0) for (const wake of idleWaiters.splice(0)) wake();
      if (!res.writableFinished) controller.abort(new AbortError('the client closed the connection'));
    });
    void handle(req, res, controller.signal, record).catch((err) => sendError(res, err));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal, record?: RequestRecord): Promise<void> => {
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
    const method = req.method ?? 'GET';
    const c: RequestContext = {
      store,
      budget,
      bodyIdleTimeoutMs,
      sendTimeoutMs,
      client: keyOf(req),
      url,
      req,
      res,
      signal,
      requestId: record?.id,
      meter: record?.meter,
    };
    const route = table.find(url.pathname);
    // A signed link stands in for the token; a forged or expired one is 403.
    if (route?.access === 'link') c.link = await authorizeLink(links, url, method);
    if (route?.access !== 'open' && !c.link && !auth.check(bearerToken(req.headers.authorization))) {
      const error = req.headers.authorization ? 'invalid_token' : undefined;
      const message = error ? 'the bearer token is not valid' : 'an Authorization: Bearer <token> header is required';
      sendError(res, new UnauthorizedError(message), {
        'WWW-Authenticate': `Bearer realm="chunkstream"${error ? `, error="${error}"` : ''}`,
      });
      return;
    }
    if (mount) return mount.handle(req, res, url.pathname, signal);
    if (!route) throw new NotFoundError(`route ${url.pathname.slice(0, 200)}`);
    c.id = table.idOf(route, url.pathname);
    if (!route.methods.includes(method)) {
      sendError(res, new MethodNotAllowedError(`${method} is not allowed on ${url.pathname.slice(0, 200)}`), {
        Allow: route.methods.join(', '),
      });
      return;
    }
    await route.run(c);
  };

  return Object.assign(handler, {
    abortAll(reason?: unknown) {
      for (const c of inFlight) c.abort(reason ?? new AbortError('the server is shutting down'));
    },
    get active() {
      return inFlight.size;
    },
    idle: () => (inFlight.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    answers: (method: string, path: string) => table.find(path)?.methods.includes(method) ?? false,
    routeOf(path: string) {
      const route = table.find(path);
      if (route) return route.label ?? route.template;
      return mounts.find((m) => m.handles(path))?.label?.(path) ?? 'other';
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
