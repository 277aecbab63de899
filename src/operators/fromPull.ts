import { Observable } from 'rxjs';

/** A source that emits only what was requested: `values$` plus `request(n)` (a closure: pass it on alone). */
export interface PullSource<T> {
  readonly values$: Observable<T>;
  readonly request: (n: number) => void;
}

/**
 * Bridges a pull-based iterable (a Readable, an async generator, a web stream's iterator) to
 * an Observable that reads the next value only when `request` asks for it. Pair it with the
 * `request` option of `mergeMapBounded` / `concatMapEager`. One subscriber at a time;
 * unsubscribing calls the iterator's `return()` so the underlying stream is released.
 */
export function fromPull<T>(iterable: AsyncIterable<T> | Iterable<T>): PullSource<T> {
  let wanted = 0;
  let pump: (() => void) | undefined;
  const values$ = new Observable<T>((subscriber) => {
    const iterator: AsyncIterator<T> | Iterator<T> =
      Symbol.asyncIterator in iterable ? iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]();
    let reading = false;
    let finished = false;
    pump = () => {
      if (reading || finished) return;
      reading = true;
      void (async () => {
        try {
          while (wanted > 0 && !subscriber.closed) {
            const r = iterator.next();
            const step = r instanceof Promise ? await r : r;
            if (subscriber.closed) return;
            if (step.done) {
              finished = true;
              subscriber.complete();
              return;
            }
            wanted--;
            subscriber.next(step.value);
          }
        } catch (err) {
          finished = true;
          subscriber.error(err);
        } finally {
          reading = false;
        }
      })();
    };
    if (wanted > 0) pump();
    return () => {
      pump = undefined;
      if (!finished) {
        finished = true;
        // Release the underlying resource (file handle, socket) of an abandoned iteration.
        void Promise.resolve()
          .then(() => iterator.return?.())
          .catch(() => undefined);
      }
    };
  });
  return {
    values$,
    request: (n: number) => {
      wanted += n;
      pump?.();
    },
  };
}
