import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { BusyError } from '../../engine/budget.js';
import { ChunkstreamError, MethodNotAllowedError, NotFoundError, StorageError, isChunkstreamError } from '../../errors.js';
import type { ChunkStore } from '../../storage/types.js';
import { sendError, sendJson } from '../http/respond.js';
import type { RequestGuard } from '../guard.js';
import type { OpsRoutes, RequestContext } from '../handler-options.js';
import type { Route } from '../routes.js';
import type { ServerMetrics } from './metrics.js';

/**
 * An object every served store holds, written once when a server starts (`ifNotExists`): the
 * readiness probe reads it back. Reading a key that must exist tells "the store answers" from
 * "the store is gone": a removed or replaced directory lists as empty, but loses this object.
 */
export const STORE_MARKER_KEY = 'config/store.json';
const READY_TIMEOUT_MS = 5000;

export async function writeStoreMarker(store: ChunkStore): Promise<void> {
  const body = JSON.stringify({ version: 1, created: new Date().toISOString() });
  await store.put(STORE_MARKER_KEY, new TextEncoder().encode(body), { ifNotExists: true });
}

const draining = () => new BusyError(0, 0, 'the server is shutting down: it finishes the transfers in flight and takes no new ones');

export function createOps(o: {
  chunkStore: ChunkStore;
  isDraining: () => boolean;
  metrics?: ServerMetrics;
  metricsPublic: boolean;
}): OpsRoutes {
  return {
    metricsPublic: o.metricsPublic,
    health(res) {
      if (o.isDraining()) return sendError(res, draining());
      sendJson(res, 200, { ok: true });
    },
    async ready(res, signal) {
      if (o.isDraining()) return sendError(res, draining());
      const timeout = AbortSignal.timeout(READY_TIMEOUT_MS);
      try {
        await o.chunkStore.get(STORE_MARKER_KEY, { signal: AbortSignal.any([signal, timeout]) });
      } catch (err) {
        if (signal.aborted) throw err;
        const why = timeout.aborted
          ? `no answer within ${READY_TIMEOUT_MS} ms`
          : isChunkstreamError(err) && err.code === 'not_found'
            ? `${STORE_MARKER_KEY} is missing: the store's directory or bucket prefix was removed or replaced`
            : (err as Error).message;
        return sendError(res, new StorageError(o.chunkStore.name, `the store is not answering: ${why}`));
      }
      if (o.isDraining()) return sendError(res, draining());
      sendJson(res, 200, { ok: true });
    },
    ...(o.metrics ? { metrics: (res: ServerResponse) => sendMetrics(o.metrics!, res) } : {}),
  };
}

/**
 * GET /healthz, /readyz and /metrics as routes: the probes are open even with auth on (load
 * balancers, orchestrators), /metrics only with metricsPublic. Without ops, /healthz just answers ok.
 */
export function probeRoutes(ops: OpsRoutes | undefined): Route<RequestContext>[] {
  const methods = ['GET', 'HEAD'];
  const health: Route<RequestContext> = {
    template: '/healthz',
    methods,
    access: 'open',
    run: async ({ res }) => (ops ? ops.health(res) : sendJson(res, 200, { ok: true })),
  };
  if (!ops) return [health];
  const ready: Route<RequestContext> = {
    template: '/readyz',
    methods,
    access: 'open',
    run: async ({ res, signal }) => ops.ready(res, signal),
  };
  if (!ops.metrics) return [health, ready];
  const metrics: Route<RequestContext> = {
    template: '/metrics',
    methods,
    access: ops.metricsPublic ? 'open' : 'token',
    run: async ({ res }) => ops.metrics!(res),
  };
  return [health, ready, metrics];
}

export async function sendMetrics(metrics: ServerMetrics, res: ServerResponse): Promise<void> {
  const text = await metrics.text();
  res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

/**
 * At most `max` connections (HTTP and WebSocket alike) are served at once. A connection beyond
 * it is not dropped unanswered: its first request (or upgrade) gets 503 `busy` with
 * `Retry-After: 1` and `Connection: close`, and it is closed. Without `max`, no limit.
 */
export function limitConnections(server: Server, max: number | undefined): { refused(socket: Socket): ChunkstreamError | undefined } {
  const over = new WeakSet<Socket>();
  let open = 0;
  if (max !== undefined) {
    server.on('connection', (socket: Socket) => {
      if (open >= max) {
        over.add(socket);
        return;
      }
      open++;
      socket.once('close', () => open--);
    });
  }
  const error = () => new BusyError(0, 0, `the server is busy: it serves at most ${max} connections at once (maxConnections), retry later`);
  return { refused: (socket) => (over.has(socket) ? error() : undefined) };
}

/**
 * The handler of a separate metrics port: GET /metrics, nothing else, no auth (an internal
 * port), behind the API's Host and Origin guard (a DNS-rebinding page could read it otherwise).
 */
export function metricsPortHandler(metrics: ServerMetrics, guard?: RequestGuard) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const refused = guard?.checkRequest(req);
    if (refused) return sendError(res, refused);
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return sendError(res, new NotFoundError('route', 'only /metrics is served on this port'));
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, new MethodNotAllowedError(`${req.method} is not allowed on /metrics`), { Allow: 'GET, HEAD' });
    }
    sendMetrics(metrics, res).catch((err) => sendError(res, err));
  };
}
