import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { concatMapEager } from '../../src/index.js';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('concatMapEager', () => {
  it('should keep input order when inner i+1 completes before inner i', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const inners = { a: cold('-----A|'), b: cold('-B|'), c: cold('--C|') };
      const source = cold('(abc|)');
      const result = source.pipe(concatMapEager((k: string) => inners[k as keyof typeof inners], 3));
      expectObservable(result).toBe('-----A(BC|)');
      expectSubscriptions(inners.a.subscriptions).toBe('^-----!');
      expectSubscriptions(inners.b.subscriptions).toBe('^-!');
      expectSubscriptions(inners.c.subscriptions).toBe('^--!');
    });
  });

  it('should deliver all values of inner i before any value of inner i+1', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const inners = { a: cold('-A--A|'), b: cold('B-B|') };
      const result = cold('(ab|)').pipe(concatMapEager((k: string) => inners[k as keyof typeof inners], 2));
      expectObservable(result).toBe('-A--A(BB|)');
    });
  });

  it('should never subscribe more than N inners at once', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const inners = { a: cold('---A|'), b: cold('-B|'), c: cold('-C|'), d: cold('D|') };
      const result = cold('(abcd|)').pipe(concatMapEager((k: string) => inners[k as keyof typeof inners], 2));
      // c and d start only at frame 4, when a is delivered and done and b leaves the window.
      expectObservable(result).toBe('---ABC(D|)');
      expectSubscriptions(inners.a.subscriptions).toBe('^---!');
      expectSubscriptions(inners.b.subscriptions).toBe('^-!');
      expectSubscriptions(inners.c.subscriptions).toBe('----^-!');
      expectSubscriptions(inners.d.subscriptions).toBe('----^!');
    });
  });

  it('should stop subscribing new inners while a slow consumer gives no credit', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const inners = { a: cold('A|'), b: cold('B|'), c: cold('C|'), d: cold('D|') };
      // A is delivered on the first credit; its slot goes to c. Then the window (b, c) is full
      // of undelivered results, so d waits until the consumer's next credit at frame 6.
      const demand = hot('1-----1-1-1', { 1: 1 });
      const result = cold('(abcd|)').pipe(concatMapEager((k: string) => inners[k as keyof typeof inners], 2, { demand }));
      expectObservable(result).toBe('A-----B-C-(D|)');
      expectSubscriptions(inners.a.subscriptions).toBe('^!');
      expectSubscriptions(inners.b.subscriptions).toBe('^!');
      expectSubscriptions(inners.c.subscriptions).toBe('-^!');
      expectSubscriptions(inners.d.subscriptions).toBe('------^!');
    });
  });

  it('should cancel every other inner when one inner errors', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const inners = { a: cold('-----A|'), b: cold('--#'), c: cold('------C|') };
      const result = cold('(abc|)').pipe(concatMapEager((k: string) => inners[k as keyof typeof inners], 3));
      expectObservable(result).toBe('--#');
      expectSubscriptions(inners.a.subscriptions).toBe('^-!');
      expectSubscriptions(inners.c.subscriptions).toBe('^-!');
    });
  });

  it('should cancel all in-flight inners when unsubscribed', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const inners = { a: cold('-----A|'), b: cold('--B|'), c: cold('------C|') };
      const result = cold('(abc|)').pipe(concatMapEager((k: string) => inners[k as keyof typeof inners], 2));
      expectObservable(result, '---!').toBe('---');
      expectSubscriptions(inners.a.subscriptions).toBe('^--!');
      expectSubscriptions(inners.b.subscriptions).toBe('^--!');
      expectSubscriptions(inners.c.subscriptions).toBe([]);
    });
  });

  it('should send an error thrown by the project function to the subscriber', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold('a-b|').pipe(
        concatMapEager((k: string) => {
          if (k === 'b') throw new Error('boom');
          return cold('-A|');
        }, 2),
      );
      expectObservable(result).toBe('-A#', { A: 'A' }, new Error('boom'));
    });
  });

  it('should reject a concurrency that is not a positive integer', () => {
    expect(() => concatMapEager(() => [], 0)(cold0())).toThrow(/concurrency/);
  });
});

function cold0() {
  return new TestScheduler(() => undefined).createColdObservable('|');
}
