import { mergeMap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { mergeMapBounded } from '../../src/index.js';
import { marblePull, testScheduler } from '../helpers/marbles.js';

type K = 'a' | 'b' | 'c' | 'd' | 'e';

describe('mergeMapBounded', () => {
  it('should pull the source only as fast as inners complete', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const inners = { a: cold('---A|'), b: cold('-B|'), c: cold('--C|'), d: cold('-D|'), e: cold('-E|') };
      const src = marblePull(ts, ['a', 'b', 'c', 'd', 'e'] as K[]);
      const result = src.values$.pipe(mergeMapBounded((k: string) => inners[k as keyof typeof inners], 2, { request: src.request }));
      expectObservable(result).toBe('-B-ACDE|');
      expectSubscriptions(inners.a.subscriptions).toBe('^---!');
      expectSubscriptions(inners.b.subscriptions).toBe('^-!');
      expectSubscriptions(inners.c.subscriptions).toBe('--^--!');
      expectSubscriptions(inners.d.subscriptions).toBe('----^-!');
      expectSubscriptions(inners.e.subscriptions).toBe('-----^-!');
      ts.flush();
      // Two at once, then one more each time an inner completes: never ahead of storage.
      expect(src.log).toEqual(['0:2', '2:1', '4:1', '5:1']);
    });
  });

  it('should hold no outer value beyond the window when the source pushes anyway', () => {
    // The contrast: plain mergeMap subscribes the source eagerly; with request, the source is
    // asked for exactly as many values as there are free slots.
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const src = marblePull(ts, ['a', 'b', 'c', 'd'] as K[]);
      const result = src.values$.pipe(mergeMapBounded(() => cold('---x|'), 1, { request: src.request }));
      expectObservable(result).toBe('---x---x---x---x|');
      ts.flush();
      expect(src.log).toEqual(['0:1', '4:1', '8:1', '12:1']);
    });
  });

  it('should never subscribe more than N inners at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const inners = { a: cold('--A|'), b: cold('---B|'), c: cold('-C|'), d: cold('-D|'), e: cold('-E|') };
      const result = cold('(abcde|)').pipe(mergeMapBounded((k: string) => inners[k as keyof typeof inners], 2));
      // Each inner takes the slot of the one that completed just before.
      expectObservable(result).toBe('--ABCDE|');
      expectSubscriptions(inners.a.subscriptions).toBe('^--!');
      expectSubscriptions(inners.b.subscriptions).toBe('^---!');
      expectSubscriptions(inners.c.subscriptions).toBe('---^-!');
      expectSubscriptions(inners.d.subscriptions).toBe('----^-!');
      expectSubscriptions(inners.e.subscriptions).toBe('-----^-!');
    });
  });

  it('should stop subscribing new inners while a slow consumer gives no credit', () => {
    testScheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const inners = { a: cold('A|'), b: cold('B|'), c: cold('C|'), d: cold('D|') };
      const demand = hot('1----1---1-1', { 1: 1 });
      const result = cold('(abcd|)').pipe(mergeMapBounded((k: string) => inners[k as keyof typeof inners], 2, { demand }));
      expectObservable(result).toBe('A----B---C-(D|)');
      expectSubscriptions(inners.c.subscriptions).toBe('-^!');
      expectSubscriptions(inners.d.subscriptions).toBe('-----^!');
    });
  });

  it('should cancel every other inner when one inner errors', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const inners = { a: cold('-----A|'), b: cold('--#'), c: cold('------C|') };
      const result = cold('(abc|)').pipe(mergeMapBounded((k: string) => inners[k as keyof typeof inners], 3));
      expectObservable(result).toBe('--#');
      expectSubscriptions(inners.a.subscriptions).toBe('^-!');
      expectSubscriptions(inners.c.subscriptions).toBe('^-!');
    });
  });

  it('should cancel all in-flight inners and stop pulling when unsubscribed', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable, expectSubscriptions }) => {
      const inner = cold('-----x|');
      const src = marblePull(ts, ['a', 'b', 'c', 'd'] as K[]);
      const result = src.values$.pipe(mergeMapBounded(() => inner, 2, { request: src.request }));
      expectObservable(result, '---!').toBe('---');
      expectSubscriptions(inner.subscriptions).toBe(['^--!', '^--!']);
      ts.flush();
      expect(src.log).toEqual(['0:2']);
    });
  });

  it('matches plain mergeMap when values arrive slower than inners complete', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('a---b---c|');
      const project = (k: string) => cold('-x|', { x: k.toUpperCase() });
      expectObservable(source.pipe(mergeMapBounded(project, 2))).toBe('-A---B---C|');
      expectObservable(source.pipe(mergeMap(project, 2))).toBe('-A---B---C|');
    });
  });
});
