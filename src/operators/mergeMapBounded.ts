import type { ObservableInput, ObservedValueOf, OperatorFunction } from 'rxjs';
import { DEFAULT_CONCURRENCY, boundedMerge, type FlowControl } from '../internal/boundedMerge.js';

/**
 * `mergeMap` with a concurrency limit that also bounds what it holds. With `flow.request`
 * (see `fromPull`) the source is pulled only when a slot frees, instead of buffering outer
 * values without limit as plain `mergeMap` does when the source is faster than the inners.
 *
 * ```ts
 * const chunks = fromPull(chunkIterator);
 * chunks.values$.pipe(mergeMapBounded((c) => store(c), 4, { request: chunks.request }))
 * ```
 */
export function mergeMapBounded<T, O extends ObservableInput<unknown>>(
  project: (value: T, index: number) => O,
  concurrency = DEFAULT_CONCURRENCY,
  flow?: FlowControl<ObservedValueOf<O>>,
): OperatorFunction<T, ObservedValueOf<O>> {
  return (source) => boundedMerge(source, project as (v: T, i: number) => ObservableInput<ObservedValueOf<O>>, concurrency, false, flow);
}
