import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { GcRunningError, underGcLease, type GcLease } from '../../engine/gc-lease.js';
import type { GcOptions, GcReport } from '../../engine/gc-types.js';
import type { Store } from '../../engine/store.js';
import { AbortError, toChunkstreamError } from '../../errors.js';
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
 * (underGcLease renews it while the run lasts.) Outcomes go to the log, the metrics and `gc` events.
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
      const graceMs = options.graceMs ?? (trigger === 'schedule' ? o.graceMs : undefined);
      const onAcquired = (lease: GcLease) => emit({ type: 'start', trigger, generation: lease.generation });
      const outcome = await underGcLease(o.store.chunkStore, { holder, ttlMs: o.leaseMs, signal, onAcquired }, (leased) =>
        o.store.gc({ ...options, graceMs, signal: leased }),
      ).catch((error) => {
        const e = toChunkstreamError(error);
        o.metrics?.gc({ trigger, outcome: 'error' });
        // A run cut short by the shutdown is no failure of the store.
        (stopping.signal.aborted ? log.info : log.error).call(
          log,
          { trigger, outcome: stopping.signal.aborted ? 'aborted' : 'error', code: e.code, err: e.message, ms: Date.now() - t0 },
          `gc failed: ${e.message}`,
        );
        emit({ type: 'done', trigger, outcome: 'error', error });
        throw error;
      });
      if (!outcome.ran) throw skipped(outcome.holder, outcome.expires);
      const report = outcome.value;
      const { removedChunks, removedBytes, keptChunks, keptRecentChunks, expiredUploads, removedTemp, dryRun } = report;
      o.metrics?.gc({ trigger, outcome: 'ok', removedChunks: dryRun ? 0 : removedChunks, removedBytes: dryRun ? 0 : removedBytes });
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
