import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { acquireGcLease, GcRunningError } from '../engine/gc-lease.js';
import type { GcOptions, GcReport } from '../engine/gc.js';
import type { Store } from '../engine/store.js';
import { AbortError, toChunkstreamError } from '../errors.js';
import type { Logger } from './log.js';
import type { GcOutcome, ServerMetrics } from './metrics.js';

export type GcTrigger = GcOutcome['trigger'];

/** What a gc attempt came to: `skipped` when another gateway (or run) held the lease. */
export type GcEvent =
  | { type: 'start'; trigger: GcTrigger; generation: number }
  | { type: 'done'; trigger: GcTrigger; outcome: 'ok'; report: GcReport }
  | { type: 'done'; trigger: GcTrigger; outcome: 'error'; error: unknown }
  | { type: 'done'; trigger: GcTrigger; outcome: 'skipped'; holder: string; expires: string };

export interface GcRunner extends EventEmitter<{ gc: [GcEvent] }> {
  /** Runs gc now under the store's lease; rejects with GcRunningError (409 conflict) if a run holds it. */
  run(trigger: GcTrigger, options?: GcOptions): Promise<GcReport>;
  /** Ends the schedule, aborts a run in progress and waits for it to give the lease back. */
  stop(): Promise<void>;
  /** This process's lease holder name (host:pid:random). */
  readonly holder: string;
}

export interface GcRunnerOptions {
  store: Store;
  /** Run every this many ms; no schedule without it (runs on request only). */
  everyMs?: number;
  /** Grace period of scheduled runs (default: the store's). */
  graceMs?: number;
  leaseMs: number;
  logger: Logger;
  metrics?: ServerMetrics;
}

/**
 * gc runs of one server, scheduled (`--gc-every`) or requested (POST /v1/gc), each under the
 * store's gc lease (gc-lease.ts): across every gateway on the store, at most one runs at a time.
 * The lease is renewed while the run lasts; if renewing fails the run is aborted rather than
 * overlap with a gateway that took over. Outcomes go to the log, the metrics and `gc` events.
 */
export function createGcRunner(o: GcRunnerOptions): GcRunner {
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const stopping = new AbortController();
  let current: Promise<unknown> | undefined;
  const emitter = new EventEmitter<{ gc: [GcEvent] }>();
  const emit = (e: GcEvent) => emitter.emit('gc', e);
  const log = o.logger.child({ kind: 'gc' });

  const run = async (trigger: GcTrigger, options: GcOptions = {}): Promise<GcReport> => {
    if (stopping.signal.aborted) throw new AbortError('the server is shutting down');
    const t0 = Date.now();
    const skipped = (who: string, expires: string) => {
      o.metrics?.gc({ trigger, outcome: 'skipped' });
      // A tick during this server's own long run is routine; another holder is worth a line.
      (who === holder ? log.debug : log.info).call(
        log,
        { trigger, outcome: 'skipped', holder: who, expires },
        `gc skipped: the lease is held by ${who}`,
      );
      emit({ type: 'done', trigger, outcome: 'skipped', holder: who, expires });
      return new GcRunningError(who, expires);
    };
    if (current) throw skipped(holder, 'the end of the run in progress here');
    const signal = AbortSignal.any([stopping.signal, ...(options.signal ? [options.signal] : [])]);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    current = gate;
    try {
      const attempt = await acquireGcLease(o.store.chunkStore, { holder, ttlMs: o.leaseMs, signal }).catch((error) => {
        const e = toChunkstreamError(error);
        o.metrics?.gc({ trigger, outcome: 'error' });
        log.error({ trigger, outcome: 'error', code: e.code, err: e.message }, `gc lease: ${e.message}`);
        emit({ type: 'done', trigger, outcome: 'error', error });
        throw error;
      });
      if (!attempt.acquired) throw skipped(attempt.holder, attempt.expires);
      const { lease } = attempt;
      const controller = new AbortController();
      const onStop = () => controller.abort(signal.reason);
      signal.addEventListener('abort', onStop, { once: true });
      const renewal = setInterval(
        () => void lease.renew().catch((err) => controller.abort(toChunkstreamError(err))),
        Math.max(50, Math.floor(o.leaseMs / 3)),
      );
      renewal.unref();
      emit({ type: 'start', trigger, generation: lease.generation });
      try {
        const graceMs = options.graceMs ?? (trigger === 'schedule' ? o.graceMs : undefined);
        const report = await o.store.gc({ ...options, graceMs, signal: controller.signal });
        o.metrics?.gc({
          trigger,
          outcome: 'ok',
          removedChunks: report.dryRun ? 0 : report.removedChunks,
          removedBytes: report.dryRun ? 0 : report.removedBytes,
        });
        const { removedChunks, removedBytes, keptChunks, keptRecentChunks, expiredUploads, removedTemp, dryRun } = report;
        log.info(
          {
            trigger,
            outcome: 'ok',
            removedChunks,
            removedBytes,
            keptChunks,
            keptRecentChunks,
            expiredUploads,
            removedTemp,
            graceMs: report.graceMs,
            dryRun,
            ms: Date.now() - t0,
          },
          `gc removed ${removedChunks} chunks (${removedBytes} bytes)${dryRun ? ' (dry run)' : ''}`,
        );
        emit({ type: 'done', trigger, outcome: 'ok', report });
        return report;
      } catch (error) {
        const e = toChunkstreamError(error);
        o.metrics?.gc({ trigger, outcome: 'error' });
        log.error({ trigger, outcome: 'error', code: e.code, err: e.message, ms: Date.now() - t0 }, `gc failed: ${e.message}`);
        emit({ type: 'done', trigger, outcome: 'error', error });
        throw error;
      } finally {
        clearInterval(renewal);
        signal.removeEventListener('abort', onStop);
        await lease.release().catch((err) => log.warn({ err: (err as Error).message }, 'gc lease release failed: it expires by itself'));
      }
    } finally {
      current = undefined;
      release();
    }
  };

  const timer = o.everyMs === undefined ? undefined : setInterval(() => void run('schedule').catch(() => undefined), o.everyMs);
  timer?.unref();

  return Object.assign(emitter, {
    run,
    holder,
    async stop() {
      clearInterval(timer);
      stopping.abort(new AbortError('the server is shutting down'));
      await current;
    },
  });
}
