import { AsyncLocalStorage } from 'node:async_hooks';
import { toChunkstreamError } from '../errors.js';
import type { ChunkFault, VerifyReport } from './gc-types.js';

/**
 * Narrow hooks the engine reports into (metrics, logs), registered with `store.observe()`. Every
 * hook is optional and called synchronously: an observer must be cheap and must not throw (a
 * throwing observer is ignored, never allowed to fail a transfer). Nothing here is per byte:
 * transfers report once per chunk.
 */
export interface StoreObserver {
  /** A transfer starts (an upload, or a download that reads at least one chunk); the watch gets its bytes and its end. */
  transfer?(info: TransferInfo): TransferWatch | undefined;
  /** A verify run ended with this report (its problems include integrity failures). */
  verify?(report: VerifyReport): void;
  /** A read found a chunk corrupt (it was moved aside, `movedTo`) or missing: the log names its key, metrics count it. */
  chunkFault?(fault: ChunkFault): void;
  /** A download looked a chunk up in the store's cache (once per chunk; only with a cache). */
  chunkCache?(hit: boolean, bytes: number): void;
}

/** Who moves the bytes: a fixed set, so it can be a metric label. `embedded`: the Observable API in-process. */
export type TransferProtocol = 'http' | 'ws' | 'tus' | 'embedded';
export type TransferDirection = 'upload' | 'download';

export interface TransferInfo {
  readonly direction: TransferDirection;
  readonly protocol: TransferProtocol;
}

export interface TransferWatch {
  /** Bytes received (upload: cut from the source) or delivered (download), once per chunk. */
  bytes(n: number): void;
  /** The transfer ended: completed, failed (its error's code) or aborted (see transferOutcome). */
  end(outcome: TransferOutcome): void;
}

/** How a transfer ended: exactly one of these, in metrics and in log lines alike. */
export type TransferEnd = 'completed' | 'failed' | 'aborted';

/** `ok` and `code` as before; `end` says which of the three (`code` is `aborted` for an abort). */
export type TransferOutcome =
  | { ok: true; end: 'completed' }
  | { ok: false; end: 'failed'; code: string }
  | { ok: false; end: 'aborted'; code: 'aborted'; cancelled?: true };

/**
 * The one rule every protocol's transfers end by (HTTP, WebSocket, tus, embedded):
 * - completed: it did all it was asked (an upload committed, or a tus segment stored whole; a
 *   download delivered its last byte);
 * - aborted: its client cancelled or went away (`cancelled`: unsubscribed; a dropped request,
 *   socket or tus PATCH body), or the server stopped it (shutdown, --drain-timeout);
 * - failed: anything else, with its error's code (timeout for a stalled client, integrity, …).
 */
export function transferOutcome(err?: unknown, cancelled?: boolean): TransferOutcome {
  if (cancelled) return { ok: false, end: 'aborted', code: 'aborted', cancelled: true };
  if (err === undefined) return { ok: true, end: 'completed' };
  const code = toChunkstreamError(err).code;
  return code === 'aborted' ? { ok: false, end: 'aborted', code } : { ok: false, end: 'failed', code };
}

/**
 * Labels the transfers one caller starts and adds up their bytes. Whoever starts a transfer
 * passes one (`UploadOptions.meter`, `DownloadOptions.meter`), or runs its work inside
 * `withMeter()`: the HTTP gateway does that per request, so any handler on it (tus included)
 * labels its transfers without passing anything.
 */
export interface TransferMeter {
  readonly protocol: TransferProtocol;
  /** Bytes moved by this meter's transfers so far (the engine adds to it). */
  bytes: number;
  /** How its last transfer ended, set by the engine: the access log says what the metrics counted. */
  outcome?: TransferOutcome;
  /**
   * Set by a caller before it unsubscribes a transfer, to say why (its client broke the protocol):
   * the transfer then ends failed with this error's code, not aborted.
   */
  stoppedBy?: unknown;
}

const ambient = new AsyncLocalStorage<TransferMeter>();

/** Runs `fn` with `meter` as the meter of every transfer it starts (through promises and callbacks). */
export function withMeter<T>(meter: TransferMeter, fn: () => T): T {
  return ambient.run(meter, fn);
}

/** The meter of a transfer: the caller's, else the ambient one, else none (embedded use). */
export function meterOf(given: TransferMeter | undefined): TransferMeter | undefined {
  return given ?? ambient.getStore();
}

/** One transfer's reports to every observer (and to its meter), or undefined when nobody listens. */
export interface TransferReport {
  bytes(n: number): void;
  end(err?: unknown, cancelled?: boolean): void;
}

export function reportTransfer(
  observers: ReadonlySet<StoreObserver>,
  direction: TransferDirection,
  meter: TransferMeter | undefined,
): TransferReport | undefined {
  if (observers.size === 0 && !meter) return undefined;
  const info: TransferInfo = { direction, protocol: meter?.protocol ?? 'embedded' };
  const watches: TransferWatch[] = [];
  for (const o of observers) {
    const w = safely(() => o.transfer?.(info));
    if (w) watches.push(w);
  }
  let ended = false;
  return {
    bytes(n) {
      if (meter) meter.bytes += n;
      for (const w of watches) safely(() => w.bytes(n));
    },
    end(err, cancelled) {
      if (ended) return;
      ended = true;
      const outcome = transferOutcome(err, cancelled);
      if (meter) meter.outcome = outcome;
      for (const w of watches) safely(() => w.end(outcome));
    },
  };
}

/** Calls every observer's hook, ignoring what throws. */
export function notify(observers: ReadonlySet<StoreObserver>, call: (o: StoreObserver) => void): void {
  for (const o of observers) safely(() => call(o));
}

function safely<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
