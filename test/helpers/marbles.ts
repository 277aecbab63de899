import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { PullSource } from '../../src/index.js';

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
