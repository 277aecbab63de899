import { Observable, from, type ObservableInput } from 'rxjs';
import type { HeldBytes } from './gauge.js';

/** How an operator is throttled from both ends. All fields are optional. */
export interface FlowControl<R> {
  /**
   * Pull from upstream: called with `n` when the operator can take `n` more source values.
   * Without it the source is subscribed as usual and values beyond the window wait in a queue
   * (fine for small descriptors, not for bytes: use `fromPull` for those).
   */
  request?: (n: number) => void;
  /**
   * Credits from the consumer: each delivered value spends one credit, and each credit that
   * arrives after a delivery acknowledges the oldest delivered value. Without it delivery is
   * synchronous: a value is consumed when `next` returns.
   */
  demand?: Observable<number>;
  /** Counts result values held: from an inner's emission until delivered (or acknowledged). */
  gauge?: HeldBytes;
  /** Size of a result for the gauge (default: `byteLength` if present, else 0). */
  weigh?: (value: R) => number;
  /**
   * Called once per result when the operator lets go of it: `reusable` when the consumer
   * acknowledged it (with `demand`) or took it synchronously (`next` returned), or when it was
   * never delivered; not reusable when the stream ended while the consumer still held it. Lets a
   * producer lend reusable buffers: a buffer is reused only once nobody can still be reading it.
   */
  release?: (value: R, reusable: boolean) => void;
}

interface Slot<R> {
  values: R[];
  /** The inner completed and was torn down. */
  done: boolean;
}

function defaultWeigh(value: unknown): number {
  const n = (value as { byteLength?: unknown } | null)?.byteLength;
  return typeof n === 'number' ? n : 0;
}

/** Inners at once when the caller of concatMapEager / mergeMapBounded names no number. */
export const DEFAULT_CONCURRENCY = 4;

export function checkConcurrency(concurrency: number): void {
  if (!(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency >= 1))) {
    throw new RangeError(`concurrency must be a positive integer or Infinity (got ${concurrency})`);
  }
}

/**
 * The one engine behind `concatMapEager` and `mergeMapBounded`: at most `concurrency` inners
 * occupy a slot at once, and a slot is only freed once its inner completed *and* all its values
 * were delivered. So a slow consumer (no credit) holds slots, and holding slots stops both new
 * inner subscriptions and new pulls from the source: held results stay within the window.
 */
export function boundedMerge<T, R>(
  source: Observable<T>,
  project: (value: T, index: number) => ObservableInput<R>,
  concurrency: number,
  ordered: boolean,
  flow: FlowControl<R> = {},
): Observable<R> {
  checkConcurrency(concurrency);
  const weigh = flow.weigh ?? defaultWeigh;
  return new Observable<R>((subscriber) => {
    const slots: Slot<R>[] = []; // input order; a slot lives until done and drained
    const arrivals: Slot<R>[] = []; // unordered mode: which slot got each value, in arrival order
    const queued: T[] = []; // outer values waiting for a free slot
    const unacked: R[] = []; // demand mode: values delivered but not yet acknowledged
    let index = 0;
    let outstanding = 0; // values requested from the source and not yet received
    let sourceDone = false;
    let credit = flow.demand ? 0 : Infinity;
    let draining = false;
    let again = false;

    const startInner = (value: T): void => {
      let input: ObservableInput<R>;
      try {
        input = project(value, index++);
      } catch (err) {
        subscriber.error(err);
        return;
      }
      const slot: Slot<R> = { values: [], done: false };
      slots.push(slot);
      let completed = false;
      const sub = from(input).subscribe({
        next: (v) => {
          flow.gauge?.add(weigh(v));
          slot.values.push(v);
          if (!ordered) arrivals.push(slot);
          drain();
        },
        error: (err) => subscriber.error(err),
        complete: () => (completed = true),
      });
      // Runs after the inner's own teardown: only then is its slot free (as in rxjs' mergeInternals),
      // so at most `concurrency` inners exist at any moment, finalizers included.
      sub.add(() => {
        if (!completed) return;
        slot.done = true;
        subscriber.remove(sub);
        drain();
      });
      if (!sub.closed) subscriber.add(sub);
    };

    const deliver = (): boolean => {
      const slot = ordered ? slots[0] : arrivals[0];
      if (!slot || slot.values.length === 0) return false;
      if (!ordered) arrivals.shift();
      const value = slot.values.shift() as R;
      credit--;
      if (flow.demand) unacked.push(value);
      subscriber.next(value);
      if (!flow.demand) {
        flow.gauge?.release(weigh(value));
        flow.release?.(value, true);
      }
      return true;
    };

    const retire = (): void => {
      for (let i = slots.length - 1; i >= 0; i--) {
        const s = slots[i]!;
        if (s.done && s.values.length === 0) slots.splice(i, 1);
      }
    };

    // Re-entrant calls (a synchronous inner or source) only flag another pass.
    const drain = (): void => {
      if (subscriber.closed) return;
      if (draining) {
        again = true;
        return;
      }
      draining = true;
      try {
        do {
          again = false;
          retire();
          while (credit > 0 && !subscriber.closed && deliver()) retire();
          while (!subscriber.closed && slots.length < concurrency && queued.length > 0) {
            startInner(queued.shift() as T);
          }
          if (subscriber.closed) return;
          if (flow.request && !sourceDone) {
            const want = concurrency - slots.length - queued.length - outstanding;
            if (want > 0 && Number.isFinite(want)) {
              outstanding += want;
              flow.request(want);
            }
          }
          if (sourceDone && slots.length === 0 && queued.length === 0) subscriber.complete();
        } while (again && !subscriber.closed);
      } catch (err) {
        subscriber.error(err);
      } finally {
        draining = false;
      }
    };

    if (flow.demand) {
      subscriber.add(
        flow.demand.subscribe({
          next: (n) => {
            if (!(Number.isInteger(n) && n > 0)) {
              subscriber.error(new RangeError(`demand must be a positive integer (got ${n})`));
              return;
            }
            credit += n;
            for (let i = 0; i < n && unacked.length > 0; i++) {
              const value = unacked.shift() as R;
              flow.gauge?.release(weigh(value));
              flow.release?.(value, true);
            }
            drain();
          },
          error: (err) => subscriber.error(err),
        }),
      );
    }

    subscriber.add(
      source.subscribe({
        next: (value) => {
          if (outstanding > 0) outstanding--;
          queued.push(value);
          drain();
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          drain();
        },
      }),
    );
    drain();

    return () => {
      // A cancelled stream holds nothing.
      for (const s of slots) {
        for (const v of s.values) {
          flow.gauge?.release(weigh(v));
          flow.release?.(v, true);
        }
      }
      for (const v of unacked) {
        flow.gauge?.release(weigh(v));
        flow.release?.(v, false);
      }
      slots.length = 0;
      arrivals.length = 0;
      queued.length = 0;
      unacked.length = 0;
    };
  });
}
