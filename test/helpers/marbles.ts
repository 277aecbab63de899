import { Subject, type ObservableInput, type ObservedValueOf, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { FlowControl, PullSource } from '../../src/index.js';

export const testScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/**
 * A pull source for marble tests: it emits the next values synchronously when asked, and logs
 * every request as `frame:n`, so a test can show *when* the operator pulled.
 */
export function marblePull<T>(scheduler: TestScheduler, values: T[]): PullSource<T> & { log: string[] } {
  const subject = new Subject<T>();
  const log: string[] = [];
  let i = 0;
  return {
    values$: subject.asObservable(),
    log,
    request(n: number) {
      log.push(`${scheduler.now()}:${n}`);
      for (; n > 0 && i < values.length; n--) subject.next(values[i++]!);
      if (i === values.length) subject.complete();
    },
  };
}

type Bounded = <T, O extends ObservableInput<unknown>>(
  project: (value: T, index: number) => O,
  concurrency?: number,
  flow?: FlowControl<ObservedValueOf<O>>,
) => OperatorFunction<T, ObservedValueOf<O>>;

/**
 * One marble spec of a bounded operator (concatMapEager, mergeMapBounded): cold inners by key,
 * the outer keys (`source`: a cold marble, or `pull`: a marblePull source of these keys), a
 * consumer's credit (`demand`: hot marble of 1s), and what must happen: the output, each
 * inner's subscriptions, and for a pull source the log of its requests.
 */
export interface BoundedCase {
  inners: Record<string, string>;
  concurrency: number;
  source?: string;
  /** Outer keys, one a character, from a marblePull source. */
  pull?: string;
  demand?: string;
  unsubscribe?: string;
  expected: string;
  subs?: Record<string, string | string[]>;
  pulls?: string[];
}

export function runBoundedCase(op: Bounded, c: BoundedCase): void {
  const ts = testScheduler();
  ts.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
    const inners = Object.fromEntries(Object.entries(c.inners).map(([k, m]) => [k, cold(m)]));
    const project = (k: string) => inners[k] ?? inners['*']!;
    const pulled = c.pull ? marblePull(ts, [...c.pull]) : undefined;
    const demand = c.demand === undefined ? undefined : hot(c.demand, { 1: 1 });
    const source = pulled?.values$ ?? cold(c.source ?? `(${Object.keys(c.inners).join('')}|)`);
    const result = source.pipe(op(project, c.concurrency, { demand, request: pulled?.request }));
    expectObservable(result, c.unsubscribe).toBe(c.expected);
    for (const [k, subs] of Object.entries(c.subs ?? {})) expectSubscriptions(inners[k]!.subscriptions).toBe(subs);
    if (c.pulls) {
      ts.flush();
      expect(pulled!.log).toEqual(c.pulls);
    }
  });
}
