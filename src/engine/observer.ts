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
  /** The transfer ended: completed (no error), failed (its error), or unsubscribed (`cancelled`). */
  end(outcome: TransferOutcome): void;
}

export type TransferOutcome = { ok: true } | { ok: false; code: string; cancelled?: true };

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
      const outcome: TransferOutcome =
        err === undefined && !cancelled
          ? { ok: true }
          : { ok: false, code: cancelled ? 'aborted' : toChunkstreamError(err).code, ...(cancelled ? { cancelled: true as const } : {}) };
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
