import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openStore, type Store } from '../engine/store.js';
import { openChunkStore } from '../storage/open.js';
import { createTokenChecker } from './auth.js';
import { resolveBudgetLimit, TransferBudget } from '../engine/admission.js';
import { createHttpHandler } from './http.js';
import { createRequestGuard } from './http-guard.js';
import { linkSecretProvider } from './link-secret.js';
import { resolveServerOptions, type ServerOptions } from './server-options.js';
import { loadWebAssets } from './web.js';
import { attachWsGateway, WS_DEFAULTS } from './ws-gateway.js';

export { isLoopback, resolveServerOptions, serverOptionsSchema, SERVER_DEFAULTS, type ServerOptions } from './server-options.js';

export interface RunningServer {
  /** `http://HOST:PORT` (IPv6 hosts bracketed). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly store: Store;
  readonly server: Server;
  /** The transfer budget shared by HTTP and WebSocket: `limit`, `reserved` now, `peak`. */
  readonly budget: TransferBudget;
  /** Stops accepting, aborts transfers in flight, closes the WebSocket gateway and (if opened here) the store. */
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const { store: given, ...rest } = options;
  const o = resolveServerOptions(rest);
  let store = given;
  if (!store) {
    const chunkStore = await openChunkStore({
      dir: o.dir,
      store: o.storeUrl,
      s3Endpoint: o.s3Endpoint,
      s3Region: o.s3Region,
      s3ForcePathStyle: o.s3ForcePathStyle,
      concurrency: (o.uploadConcurrency ?? 4) + (o.downloadConcurrency ?? 4),
    });
    try {
      store = openStore({
        dir: o.dir,
        chunkStore,
        chunkSize: o.chunkSize,
        uploadConcurrency: o.uploadConcurrency,
        downloadConcurrency: o.downloadConcurrency,
      });
    } catch (err) {
      await chunkStore.close?.();
      throw err;
    }
  }
  const owned = !given;
  let budget: TransferBudget;
  try {
    // Sized from the store actually served (a given store has its own chunk size).
    budget = new TransferBudget(resolveBudgetLimit(o.maxTransferBytes, { ...store.options, window: WS_DEFAULTS.window }));
  } catch (err) {
    if (owned) await store.close().then(() => store!.chunkStore.close?.());
    throw err;
  }
  const auth = createTokenChecker(o.tokens);
  const guard = createRequestGuard({
    listenHost: o.host,
    allowHosts: o.allowHosts,
    allowOrigins: o.allowOrigins,
    corsOrigins: o.corsOrigins,
    publicUrl: o.publicUrl,
  });
  let url: string | undefined;
  // The page learns from the routing table itself whether signed links exist (any valid id will do).
  const web = o.web
    ? loadWebAssets(() => ({ auth: auth.enabled, links: handler.answers('POST', `/v1/files/${'0'.repeat(16)}/links`) }))
    : undefined;
  const handler = createHttpHandler({
    store,
    auth,
    bodyIdleTimeoutMs: o.bodyIdleTimeoutMs,
    budget,
    guard,
    linkSecret: linkSecretProvider(store.chunkStore, o.linkSecret),
    publicUrl: o.publicUrl,
    serverUrl: () => url,
    web,
  });
  // No whole-request deadline (Node's default is 5 minutes): a large upload on a slow link is
  // legitimate, and it is paced by storage anyway. headersTimeout must be explicit: Node
  // defaults it to min(60 s, requestTimeout), i.e. 0 (off) here, which let a client hold a
  // socket forever by trickling header bytes. Node checks it every connectionsCheckingInterval.
  // A stalled upload body is cut by bodyIdleTimeoutMs (http-upload.ts); downloads have no idle
  // limit (a backpressured reader is legitimate and holds a bounded amount).
  const server = createServer(
    {
      requestTimeout: 0,
      headersTimeout: o.headersTimeoutMs,
      connectionsCheckingInterval: Math.max(10, Math.min(30_000, Math.floor(o.headersTimeoutMs / 4))),
    },
    handler,
  );
  const ws = attachWsGateway(server, { store, tokens: auth, path: '/v1/ws', budget, guard });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await ws.close();
    // openStore({chunkStore}) leaves the backend to its opener: release it here.
    if (owned) await store.close().then(() => store!.chunkStore.close?.());
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  const s = store;
  url = `http://${host}:${address.port}`;
  return {
    url,
    port: address.port,
    host: address.address,
    store: s,
    server,
    budget,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve())); // stop accepting
        handler.abortAll(); // uploads in flight are aborted: never committed half-way
        await ws.close();
        server.closeAllConnections(); // idle keep-alive sockets and aborted transfers
        await stopped;
        if (owned) {
          await s.close();
          await s.chunkStore.close?.();
        }
      })()),
  };
}
