import { Observable, type Subscriber } from 'rxjs';

/** A credit channel: the consumer calls `request(n)` (a closure: it may be passed on alone); the producer subscribes to `demand$`. */
export interface Demand {
  readonly demand$: Observable<number>;
  readonly request: (n?: number) => void;
}

/**
 * Credits requested before the producer subscribes are kept and delivered on subscription,
 * so a consumer may ask first and the (possibly deferred) pipeline pick them up later.
 */
export function createDemand(): Demand {
  let pending = 0;
  let current: Subscriber<number> | undefined;
  const demand$ = new Observable<number>((subscriber) => {
    current = subscriber;
    if (pending > 0) {
      const n = pending;
      pending = 0;
      subscriber.next(n);
    }
    return () => {
      if (current === subscriber) current = undefined;
    };
  });
  return {
    demand$,
    request: (n = 1) => {
      if (current && !current.closed) current.next(n);
      else pending += n;
    },
  };
}
