// What chunkstream/server exports, loaded by src/server.ts once its peer dependencies are found.
export { startServer, type RunningServer, type ServerOptions } from './gateway/server.js';
export { createServerMetrics, type ServerMetrics } from './gateway/metrics.js';
export { createLogger, type LoggerOptions } from './gateway/log.js';
export type { GcEvent, GcRunner } from './gateway/gc-schedule.js';
