import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TransferBudget } from '../../engine/budget.js';
import type { StoreObserver, TransferInfo, TransferWatch } from '../../engine/observer.js';
import type { ChunkStoreHooks } from '../../storage/instrumented.js';

/** What one gc attempt of this server came to (ops/gc-schedule.ts). */
export interface GcOutcome {
  trigger: 'schedule' | 'request';
  outcome: 'ok' | 'error' | 'skipped';
  removedChunks?: number;
  removedBytes?: number;
}

/**
 * The server's Prometheus metrics: prom-client's default process and Node metrics (one set per
 * process, shared by every server in it) plus chunkstream's own in a registry per server. Labels
 * come from small fixed sets only — protocol, direction, an error code, a backend name, a route
 * template, a status — never a file id or name. The data path reports through narrow hooks (a
 * store observer, chunk store hooks): one counter step per chunk at most, nothing per byte.
 */
export interface ServerMetrics {
  readonly registry: Registry;
  /** For store.observe(): transfers and their bytes, durations and outcomes; verify reports. */
  readonly observer: StoreObserver;
  /** For instrumentChunkStore(): chunk reads, writes, flushes and dedup hits of this backend. */
  chunkHooks(backend: string): ChunkStoreHooks;
  gc(o: GcOutcome): void;
  /** A transfer was refused with busy (TransferBudget.onRefused). */
  busy(): void;
  /** One answered request; `seconds` from its first byte in to its last byte out (the latency histogram). */
  http(method: string, route: string, status: number, seconds?: number): void;
  /** Tells the metrics where to read gauges at scrape time (startServer does: one server per metrics object). */
  attach(sources: MetricSources): void;
  /** The text exposition (process metrics, then ours). */
  text(): Promise<string>;
  readonly contentType: string;
}

/** Read at scrape time; the server fills them in as it builds its parts. */
export interface MetricSources {
  budget?: TransferBudget;
  /** WebSocket connections open now (read at scrape time). */
  wsConnections?: () => number;
  draining?: () => boolean;
}

const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];
const OP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const METHODS = new Set(['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS']);

let processRegistry: Registry | undefined;

export function createServerMetrics(): ServerMetrics {
  const sources: MetricSources = {};
  processRegistry ??= (() => {
    const r = new Registry();
    collectDefaultMetrics({ register: r });
    return r;
  })();
  const registry = new Registry();
  const r = [registry];
  const transferLabels = ['protocol', 'direction'] as const;
  const transfers = { labelNames: transferLabels, registers: r };
  const started = new Counter({ name: 'chunkstream_transfers_started_total', help: 'Transfers started', ...transfers });
  const completed = new Counter({ name: 'chunkstream_transfers_completed_total', help: 'Transfers that completed', ...transfers });
  const failed = new Counter({
    name: 'chunkstream_transfers_failed_total',
    help: 'Transfers that failed, by error code (aborted ones are counted apart)',
    labelNames: [...transferLabels, 'code'],
    registers: r,
  });
  const aborted = new Counter({
    name: 'chunkstream_transfers_aborted_total',
    help: 'Transfers aborted: cancelled, the client went away, or the server stopped them (shutdown)',
    ...transfers,
  });
  const inFlight = new Gauge({ name: 'chunkstream_transfers_in_flight', help: 'Transfers running now', ...transfers });
  const bytes = new Counter({
    name: 'chunkstream_transfer_bytes_total',
    help: 'File bytes received by uploads and delivered by downloads',
    ...transfers,
  });
  const duration = new Histogram({
    name: 'chunkstream_transfer_duration_seconds',
    help: 'Transfer durations, by outcome (ok, failed, aborted)',
    labelNames: [...transferLabels, 'outcome'],
    buckets: DURATION_BUCKETS,
    registers: r,
  });
  new Gauge({
    name: 'chunkstream_transfer_budget_reserved_bytes',
    help: 'Bytes of the transfer budget reserved by transfers in flight',
    registers: r,
    collect() {
      this.set(sources.budget?.reserved ?? 0);
    },
  });
  new Gauge({
    name: 'chunkstream_transfer_budget_limit_bytes',
    help: 'The transfer budget (--max-transfer-bytes)',
    registers: r,
    collect() {
      this.set(sources.budget?.limit ?? 0);
    },
  });
  const busy = new Counter({
    name: 'chunkstream_transfer_busy_total',
    help: 'Transfers refused with busy: the budget was spent, or the server was draining',
    registers: r,
  });
  const chunkOps = (op: 'read' | 'write') =>
    new Counter({
      name: `chunkstream_chunk_${op}s_total`,
      help: `Chunk ${op}s, by outcome`,
      labelNames: ['backend', 'outcome'],
      registers: r,
    });
  const chunkLatency = (op: string, help: string) =>
    new Histogram({ name: `chunkstream_chunk_${op}_duration_seconds`, help, labelNames: ['backend'], buckets: OP_BUCKETS, registers: r });
  const reads = chunkOps('read');
  const writes = chunkOps('write');
  const readLatency = chunkLatency('read', 'Latency of successful chunk reads');
  const writeLatency = chunkLatency('write', 'Latency of successful chunk writes (a deferred write: until staged)');
  const flushLatency = chunkLatency('flush', 'Latency of flushes making staged chunk writes durable');
  const dedup = new Counter({
    name: 'chunkstream_chunk_dedup_hits_total',
    help: 'Chunk writes answered "already stored" (created: false): nothing written',
    labelNames: ['backend'],
    registers: r,
  });
  const integrity = new Counter({
    name: 'chunkstream_integrity_failures_total',
    help: 'Chunks that failed verification: downloads stopped (source=download), problems found by verify (source=verify)',
    labelNames: ['source'],
    registers: r,
  });
  const quarantined = new Counter({
    name: 'chunkstream_chunks_quarantined_total',
    help: 'Chunks a read found damaged: moved aside as corrupt (reason=corrupt) or noted missing (reason=missing); an upload of their bytes heals them',
    labelNames: ['reason'],
    registers: r,
  });
  const cacheReads = new Counter({
    name: 'chunkstream_chunk_cache_reads_total',
    help: 'Chunks downloads looked up in the chunk cache (--cache-size): result=hit (served from memory, no read, no hash) or miss',
    labelNames: ['result'],
    registers: r,
  });
  const gcRuns = new Counter({
    name: 'chunkstream_gc_runs_total',
    help: 'gc runs of this server, by trigger (schedule, request) and outcome (ok, error, skipped: the lease was held elsewhere)',
    labelNames: ['trigger', 'outcome'],
    registers: r,
  });
  const gcChunks = new Counter({ name: 'chunkstream_gc_removed_chunks_total', help: 'Chunks removed by gc', registers: r });
  const gcBytes = new Counter({ name: 'chunkstream_gc_removed_bytes_total', help: 'Bytes of chunks removed by gc', registers: r });
  const gcLast = new Gauge({
    name: 'chunkstream_gc_last_success_timestamp_seconds',
    help: 'When the last successful gc run of this server ended (Unix time)',
    registers: r,
  });
  new Gauge({
    name: 'chunkstream_ws_connections',
    help: 'WebSocket connections open',
    registers: r,
    collect() {
      this.set(sources.wsConnections?.() ?? 0);
    },
  });
  new Gauge({
    name: 'chunkstream_draining',
    help: '1 while the server shuts down (draining transfers), else 0',
    registers: r,
    collect() {
      this.set(sources.draining?.() ? 1 : 0);
    },
  });
  const requests = new Counter({
    name: 'chunkstream_http_requests_total',
    help: 'HTTP requests, by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    registers: r,
  });
  const latency = new Histogram({
    name: 'chunkstream_http_request_duration_seconds',
    help: 'HTTP requests, from the request to the last byte of the answer (file bodies included), by method and route template',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: r,
  });

  const observer: StoreObserver = {
    transfer(info: TransferInfo): TransferWatch {
      const labels = { protocol: info.protocol, direction: info.direction };
      started.inc(labels);
      inFlight.inc(labels);
      const stop = duration.startTimer(labels);
      const counted = bytes.labels(labels);
      return {
        bytes: (n) => counted.inc(n),
        end(outcome) {
          inFlight.dec(labels);
          // One of three, by the engine's rule (transferOutcome): the access log says the same.
          stop({ outcome: outcome.ok ? 'ok' : outcome.end });
          if (outcome.ok) return void completed.inc(labels);
          if (outcome.end === 'aborted') return void aborted.inc(labels);
          failed.inc({ ...labels, code: outcome.code });
          if (outcome.code === 'integrity') integrity.inc({ source: 'download' });
        },
      };
    },
    verify(report) {
      const n = report.problems.filter((p) => p.code === 'integrity').length;
      if (n > 0) integrity.inc({ source: 'verify' }, n);
    },
    chunkFault: (f) => quarantined.inc({ reason: f.reason }),
    chunkCache: (hit) => cacheReads.inc({ result: hit ? 'hit' : 'miss' }),
  };

  return {
    registry,
    observer,
    chunkHooks(backend) {
      return {
        read(outcome, s) {
          reads.inc({ backend, outcome });
          if (outcome === 'ok') readLatency.observe({ backend }, s);
        },
        write(outcome, s, created) {
          writes.inc({ backend, outcome });
          if (outcome !== 'ok') return;
          writeLatency.observe({ backend }, s);
          if (created === false) dedup.inc({ backend });
        },
        flush(outcome, s) {
          if (outcome === 'ok') flushLatency.observe({ backend }, s);
        },
      };
    },
    gc(o) {
      gcRuns.inc({ trigger: o.trigger, outcome: o.outcome });
      if (o.outcome !== 'ok') return;
      gcChunks.inc(o.removedChunks ?? 0);
      gcBytes.inc(o.removedBytes ?? 0);
      gcLast.set(Date.now() / 1000);
    },
    busy: () => busy.inc(),
    attach: (more) => void Object.assign(sources, more),
    http(method, route, status, seconds) {
      const m = METHODS.has(method) ? method : 'other';
      requests.inc({ method: m, route, status: String(status) });
      if (seconds !== undefined) latency.observe({ method: m, route }, seconds);
    },
    async text() {
      return `${await processRegistry!.metrics()}\n${await registry.metrics()}`;
    },
    contentType: registry.contentType,
  };
}
