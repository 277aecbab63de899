import { setMaxListeners } from 'node:events';
import { Observable } from 'rxjs';
import { AbortError } from '../errors.js';
import { abortError } from '../internal/abort.js';
import { HeldBytes } from '../internal/gauge.js';
import type { EngineContext } from './context.js';
import { meterOf, reportTransfer, type TransferDirection, type TransferMeter } from './observer.js';

/** One upload or download in flight: the one signal its every backend call gets, and its gauge. */
export interface Transfer {
  /** Aborted when the transfer ends in any way: done, failed, unsubscribed, the caller's signal, store.close(). */
  readonly signal: AbortSignal;
  /** Bytes this transfer holds; reports into the store's gauge and the caller's. */
  readonly gauge: HeldBytes;
  /** Bytes received (upload) or delivered (download): reported to the store's observers and the transfer's meter. */
  count(n: number): void;
  /**
   * It will complete without an error, but short of what was asked, because of `err` (a tus
   * segment whose body broke off keeps what arrived): it is reported as ending with `err`.
   */
  endedShort(err: unknown): void;
}

/** The reason backend calls still running when a transfer ends see (one instance: a transfer ends often). */
const ENDED = new AbortError('the transfer ended');

export interface TransferOptions {
  signal?: AbortSignal;
  gauge?: HeldBytes;
  /** Labels the transfer and adds up its bytes (default: the ambient meter of withMeter()). */
  meter?: TransferMeter;
}

/**
 * Runs `body` as one transfer: one AbortController (not one per chunk), linked to the caller's
 * signal and to the store's close(). An abort from outside fails the Observable with an
 * AbortError; ending it in any way aborts what is still in flight and closes the gauge.
 */
export function transfer<T>(
  ctx: EngineContext,
  direction: TransferDirection,
  options: TransferOptions,
  body: (t: Transfer) => Observable<T>,
): Observable<T> {
  return new Observable<T>((subscriber) => {
    const caller = options.signal;
    if (ctx.closed) return subscriber.error(new AbortError('the store is closed'));
    if (caller?.aborted) return subscriber.error(abortError(caller));
    const controller = new AbortController();
    // One listener per backend call in flight (≤ 64 by the options' limits, S3 adds its own): not a leak.
    setMaxListeners(256, controller.signal);
    const gauge = new HeldBytes(ctx.gauge, options.gauge);
    let ended = false;
    const onCaller = () => controller.abort(caller!.reason);
    const onAbort = () => {
      if (!ended) subscriber.error(abortError(controller.signal));
    };
    caller?.addEventListener('abort', onCaller, { once: true });
    controller.signal.addEventListener('abort', onAbort, { once: true });
    ctx.transfers.add(controller);
    const meter = meterOf(options.meter);
    const report = reportTransfer(ctx.observers, direction, meter);
    const count = report ? (n: number) => report.bytes(n) : () => undefined;
    let short: unknown;
    const endedShort = (err: unknown) => void (short ??= err);
    subscriber.add(
      body({ signal: controller.signal, gauge, count, endedShort }).subscribe({
        next: (v) => subscriber.next(v),
        error: (err) => (report?.end(err), subscriber.error(err)),
        complete: () => (report?.end(short), subscriber.complete()),
      }),
    );
    return () => {
      // Unsubscribed: aborted, unless the caller said it stopped the transfer for an error.
      report?.end(meter?.stoppedBy, meter?.stoppedBy === undefined);
      ended = true;
      ctx.transfers.delete(controller);
      caller?.removeEventListener('abort', onCaller);
      controller.signal.removeEventListener('abort', onAbort);
      controller.abort(ENDED);
      gauge.close();
    };
  });
}
