// What chunkstream/server exports, loaded by src/server.ts once its peer dependencies are found.
export { startServer, type RunningServer, type ServerOptions } from './gateway/server.js';
export { createServerMetrics, type ServerMetrics } from './gateway/ops/metrics.js';
export { createLogger, type LoggerOptions } from './gateway/ops/log.js';
export type { GcEvent, GcRunner } from './gateway/ops/gc-schedule.js';
