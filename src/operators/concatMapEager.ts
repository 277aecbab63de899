import type { ObservableInput, ObservedValueOf, OperatorFunction } from 'rxjs';
import { DEFAULT_CONCURRENCY, boundedMerge, type FlowControl } from '../internal/boundedMerge.js';

/**
 * Ordered parallel mapping: like `concatMap`, but up to `concurrency` inners are subscribed
 * eagerly ahead of the one being delivered. Values come out strictly in input order.
 *
 * Bounded: an inner keeps its slot until all its values were delivered, so a consumer that
 * gives no credit (`flow.demand`) stops new subscriptions; held results ≤ `concurrency`, plus
 * what the consumer holds. An error in any inner cancels the others; unsubscribing cancels all.
 *
 * ```ts
 * from(chunkIndexes).pipe(concatMapEager((i) => readChunk(i), 4))
 * ```
 * ```
 * source: -a-b-c|
 * inner a:  ---A|        (starts at once)
 * inner b:    -B|        (starts at once, finishes first, waits)
 * result: -----AB-...    (A before B, whatever finishes first)
 * ```
 */
export function concatMapEager<T, O extends ObservableInput<unknown>>(
  project: (value: T, index: number) => O,
  concurrency = DEFAULT_CONCURRENCY,
  flow?: FlowControl<ObservedValueOf<O>>,
): OperatorFunction<T, ObservedValueOf<O>> {
  return (source) => boundedMerge(source, project as (v: T, i: number) => ObservableInput<ObservedValueOf<O>>, concurrency, true, flow);
}
