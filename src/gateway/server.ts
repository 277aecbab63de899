import { clientKeyer } from './client-key.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../engine/store.js';
import { createTokenChecker } from './auth.js';
import { resolveBudgetLimit, TransferBudget } from '../engine/budget.js';
import { accessLogged, refusalLogged, wsLog } from './ops/access-log.js';
import { createGcRunner, type GcRunner } from './ops/gc-schedule.js';
import { createHttpHandler } from './handler.js';
import { attachProtocolEdges } from './http/edges.js';
import { createRequestGuard } from './guard.js';
import { sendError } from './http/respond.js';
import { linkSecretProvider } from './link-secret.js';
import { closeLogger, createLogger, type Logger } from './ops/log.js';
import type { RequestRecord } from './ops/meter.js';
import { createServerMetrics, type ServerMetrics } from './ops/metrics.js';
import { createOps, limitConnections, metricsPortHandler, writeStoreMarker } from './ops/probes.js';
import { resolveServerOptions, type ServerOptions } from './server-options.js';
import { createTusHandler } from './tus/handler.js';
import { closeOwned, serverStore } from './server-store.js';
import { loadWebAssets } from './web.js';
import { attachWsGateway, WS_DEFAULTS } from './ws/gateway.js';

/**
 * Idle keep-alive sockets: the server announces KEEP_ALIVE_ANNOUNCED_S (`Keep-Alive: timeout=5`)
 * and closes them only KEEP_ALIVE_MARGIN_MS later. Clients that honour the header stop reusing
 * a socket before the announced time (Node's http.Agent and undici 1 s before), and a request
 * sent right at it still arrives before the server closes: a reused socket is never one the
 * server is closing (ECONNRESET). Node announces floor(keepAliveTimeout / 1 s), hence a margin
 * under a second; Node 20.20 adds 1 s of its own when it arms the timer (6.9 s in all there),
 * older ones do not. headersTimeout (60 s) is far above it, so it never cuts an idle socket first.
 */
export const KEEP_ALIVE_ANNOUNCED_S = 5;
export const KEEP_ALIVE_MARGIN_MS = 900;

export { resolveServerOptions, serverOptionsSchema, SERVER_DEFAULTS, type ServerOptions } from './server-options.js';
export { isLoopback } from './guard.js';

export interface RunningServer {
  /** `http://HOST:PORT` (IPv6 hosts bracketed). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly store: Store;
  readonly server: Server;
  /** The transfer budget shared by HTTP and WebSocket: `limit`, `reserved` now, `peak`. */
  readonly budget: TransferBudget;
  /** This server's Prometheus metrics (`text()` is what /metrics answers). */
  readonly metrics: ServerMetrics;
  /** `http://HOST:PORT/metrics` when metricsPort is set (then /metrics is served there only). */
  readonly metricsUrl: string | undefined;
  /** gc runs (scheduled with gcEveryMs, or POST /v1/gc) under the store's gc lease; `gc` events. */
  readonly gc: GcRunner;
  readonly logger: Logger;
  /** True once close() began: transfers drain, new ones and health checks get 503. */
  readonly draining: boolean;
  /**
   * Drains, then stops: new transfers are refused (busy) and /healthz, /readyz answer 503 while
   * transfers in flight finish, for at most drainTimeoutMs (default 0); then it stops accepting,
   * aborts what is left, closes the WebSocket gateway and (if opened here) the store.
   */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const { store: given, logger: givenLogger, metrics: givenMetrics, ...rest } = options;
  const o = resolveServerOptions(rest);
  const metrics = givenMetrics ?? createServerMetrics();
  const { store, owned } = await serverStore(o, given, metrics);
  let budget: TransferBudget;
  try {
    // Sized from the store actually served (a given store has its own chunk size).
    budget = new TransferBudget(resolveBudgetLimit(o.maxTransferBytes, { ...store.options, window: WS_DEFAULTS.window }), o.maxClientShare);
    await writeStoreMarker(store.chunkStore); // what /readyz reads back
  } catch (err) {
    if (owned) await closeOwned(store);
    throw err;
  }
  const logger = givenLogger ?? createLogger({ level: o.logLevel, format: o.logFormat, file: o.logFile });
  budget.onRefused = () => metrics.busy();
  let draining = false;
  metrics.attach({ budget, draining: () => draining });
  const unobserve = store.observe(metrics.observer);
  // The store's key and where its bytes went are for the operator only: clients get the file's terms.
  const unlog = store.observe({
    chunkFault: (f) => logger.error({ kind: 'integrity', ...f }, `chunk ${f.key} of file ${f.fileId} is ${f.reason}`),
  });
  const gc = createGcRunner({ store, everyMs: o.gcEveryMs, graceMs: o.gcGraceMs, leaseMs: o.gcLeaseMs, logger, metrics });
  const auth = createTokenChecker(o.tokens);
  const guardOptions = {
    listenHost: o.host,
    allowHosts: o.allowHosts,
    allowOrigins: o.allowOrigins,
    corsOrigins: o.corsOrigins,
    publicUrl: o.publicUrl,
  };
  const guard = createRequestGuard(guardOptions);
  let url: string | undefined;
  // The page learns from the routing table itself whether signed links exist (any valid id will do).
  const web = o.web
    ? loadWebAssets(() => ({ auth: auth.enabled, links: handler.answers('POST', `/v1/files/${'0'.repeat(16)}/links`) }))
    : undefined;
  const ops = createOps({
    chunkStore: store.chunkStore,
    isDraining: () => draining,
    metrics: o.metricsPort === undefined ? metrics : undefined,
    metricsPublic: o.metricsPublic,
  });
  const keyOf = clientKeyer(o.trustedProxies); // who holds which share of the budget
  const handler = createHttpHandler({
    store,
    auth,
    bodyIdleTimeoutMs: o.bodyIdleTimeoutMs,
    sendTimeoutMs: o.sendTimeoutMs,
    budget,
    guard,
    linkSecret: linkSecretProvider(store.chunkStore, o.linkSecret),
    publicUrl: o.publicUrl,
    serverUrl: () => url,
    web,
    ops,
    runGc: (gcOptions) => gc.run('request', gcOptions),
    clientKey: keyOf,
    mounts: [createTusHandler({ store, budget, bodyIdleTimeoutMs: o.bodyIdleTimeoutMs, publicUrl: o.publicUrl, clientKey: keyOf })], // /v1/tus/
  });
  // No whole-request deadline (Node's default is 5 minutes): a large upload on a slow link is
  // legitimate, and it is paced by storage anyway. headersTimeout must be explicit: Node
  // defaults it to min(60 s, requestTimeout), i.e. 0 (off) here, which let a client hold a
  // socket forever by trickling header bytes. Node checks it every connectionsCheckingInterval.
  // A stalled upload body is cut by bodyIdleTimeoutMs (api/upload.ts), a download whose reader
  // takes nothing by sendTimeoutMs (api/download.ts, ws/download.ts): either would hold its
  // share of the budget for as long as the client likes.
  const server = createServer({
    requestTimeout: 0,
    headersTimeout: o.headersTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(o.headersTimeoutMs / 4))),
    keepAliveTimeout: KEEP_ALIVE_ANNOUNCED_S * 1000 + KEEP_ALIVE_MARGIN_MS,
  });
  const connections = limitConnections(server, o.maxConnections);
  const admitted = (req: IncomingMessage, res: ServerResponse, record: RequestRecord) => {
    const refused = connections.refused(req.socket);
    if (refused) return sendError(res, refused, { Connection: 'close' });
    handler(req, res, record);
  };
  // Labels come from the route table; the WebSocket gateway's one path is not an HTTP route.
  const routeOf = (path: string) => (path === WS_DEFAULTS.path ? WS_DEFAULTS.path : handler.routeOf(path));
  server.on('request', accessLogged(admitted, { logger, metrics, routeOf }));
  const refused = refusalLogged({ logger, metrics, routeOf });
  attachProtocolEdges(server, { refused }); // half-close, CONNECT, Expect: 100-continue (http/edges.ts)
  const ws = attachWsGateway(server, {
    store,
    tokens: auth,
    path: WS_DEFAULTS.path,
    budget,
    guard,
    maxStreams: o.maxWsStreams,
    sendTimeoutMs: o.sendTimeoutMs,
    clientKey: keyOf,
    log: wsLog(logger),
    admit: (req) => connections.refused(req.socket) ?? (draining ? budget.drainingError() : undefined),
    refused,
  });
  metrics.attach({ wsConnections: () => ws.connections });
  let metricsServer: Server | undefined;
  try {
    await listen(server, o.port, o.host);
    if (o.metricsPort !== undefined) {
      // The same Host and Origin guard as the API's: a rebinding page must not read /metrics either.
      const metricsGuard = createRequestGuard({ ...guardOptions, listenHost: o.metricsHost ?? o.host });
      metricsServer = createServer(
        accessLogged(metricsPortHandler(metrics, metricsGuard), {
          logger,
          routeOf: (path) => (path === '/metrics' ? path : routeOf(path)),
        }),
      );
      attachProtocolEdges(metricsServer);
      await listen(metricsServer, o.metricsPort, o.metricsHost ?? o.host);
    }
  } catch (err) {
    await ws.close();
    if (server.listening) await new Promise((r) => server.close(r));
    await gc.stop();
    unobserve();
    unlog();
    if (owned) await closeOwned(store);
    throw err;
  }
  url = urlOf(server);
  let closing: Promise<void> | undefined;
  const address = server.address() as AddressInfo;
  return {
    url,
    port: address.port,
    host: address.address,
    store,
    server,
    budget,
    metrics,
    metricsUrl: metricsServer && `${urlOf(metricsServer)}/metrics`,
    gc,
    logger,
    get draining() {
      return draining;
    },
    close: () =>
      (closing ??= (async () => {
        draining = true;
        const idle = budget.drain(); // new transfers are refused from now on
        if (o.drainTimeoutMs > 0 && budget.transfers > 0) {
          logger.info({ kind: 'server', transfers: budget.transfers, drainTimeoutMs: o.drainTimeoutMs }, 'draining transfers in flight');
          const timer = new AbortController();
          const drained = await Promise.race([idle.then(() => true), sleep(o.drainTimeoutMs, false, { signal: timer.signal })]);
          timer.abort();
          if (drained) logger.info({ kind: 'server' }, 'drained');
          else logger.warn({ kind: 'server', transfers: budget.transfers }, 'drain timeout: aborting the transfers still running');
        }
        await gc.stop();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve())); // stop accepting
        handler.abortAll(); // uploads in flight are aborted: never committed half-way
        await ws.close();
        server.closeAllConnections(); // idle keep-alive sockets and aborted transfers
        await stopped;
        // The server may report closed before its destroyed sockets do: wait for their responses'
        // 'close', so the access log lines of transfers cut here are written before the logger closes.
        await handler.idle();
        if (metricsServer) {
          const m = metricsServer;
          await new Promise<void>((resolve) => (m.close(() => resolve()), m.closeAllConnections()));
        }
        unobserve();
        unlog();
        if (owned) await closeOwned(store);
        logger.info({ kind: 'server' }, 'stopped');
        if (givenLogger) await new Promise<void>((resolve) => logger.flush(() => resolve()));
        else await closeLogger(logger);
      })()),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function urlOf(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
