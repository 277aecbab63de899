// chunkstream/server: the HTTP + WebSocket + tus gateway, its metrics and its logger. Its own entry
// point because it needs pino and prom-client, optional peer dependencies that neither the
// embedded store (`chunkstream`) nor the SDK (`chunkstream/client`) installs; without them this
// import fails with `missing_dependency` naming the npm command. (The `chunkstream` CLI has them
// inside its bundle: `npx chunkstream serve` needs neither.)
import { importWithPeers } from './internal/peers.js';

const gateway = await importWithPeers('chunkstream/server', ['pino', 'prom-client'], () => import('./server-exports.js'));

export const { startServer, createServerMetrics, createLogger } = gateway;
export type { RunningServer, ServerOptions, ServerMetrics, LoggerOptions, GcEvent, GcRunner } from './server-exports.js';
