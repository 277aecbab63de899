import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { AbortError } from '../errors.js';

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(reasonText(signal.reason), { cause: signal.reason });
}

function reasonText(reason: unknown): string {
  return reason instanceof Error && reason.message ? reason.message : 'the operation was aborted';
}

export function abortError(signal: AbortSignal): AbortError {
  return new AbortError(reasonText(signal.reason), { cause: signal.reason });
}

/** Errors the stream with an AbortError when `signal` aborts; removes its listener on teardown. */
export function abortable<T>(signal: AbortSignal | undefined): MonoTypeOperatorFunction<T> {
  if (!signal) return (source) => source;
  return (source) =>
    new Observable<T>((subscriber) => {
      if (signal.aborted) {
        subscriber.error(abortError(signal));
        return;
      }
      const onAbort = () => subscriber.error(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      subscriber.add(() => signal.removeEventListener('abort', onAbort));
      subscriber.add(source.subscribe(subscriber));
    });
}

/** Runs `fn` with a signal that aborts when the Observable is unsubscribed (or `outer` aborts). */
export function fromAbortable<T>(fn: (signal: AbortSignal) => Promise<T>, outer?: AbortSignal): Observable<T> {
  return new Observable<T>((subscriber) => {
    const controller = new AbortController();
    const onOuter = () => controller.abort(outer?.reason);
    if (outer?.aborted) controller.abort(outer.reason);
    else outer?.addEventListener('abort', onOuter, { once: true });
    fn(controller.signal).then(
      (value) => {
        subscriber.next(value);
        subscriber.complete();
      },
      (err) => subscriber.error(err),
    );
    return () => {
      outer?.removeEventListener('abort', onOuter);
      controller.abort(); // no-op for the backend once its promise settled
    };
  });
}

/** Waits `ms`, or rejects with an AbortError as soon as `signal` aborts; leaves no timer or listener behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (ms <= 0) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
