import { mergeMap } from 'rxjs';
import { describe, it } from 'vitest';
import { mergeMapBounded } from '../../src/index.js';
import { runBoundedCase, testScheduler, type BoundedCase } from '../helpers/marbles.js';

// What mergeMapBounded adds to the bounded-merge contract (bounded-operators.test.ts): pulling
// its source (flow.request) no faster than inners complete.
describe('mergeMapBounded', () => {
  // Each case: the outer keys are pulled (flow.request), and `pulls` is the log of the requests.
  it.each<[string, BoundedCase]>([
    // Two at once, then one more each time an inner completes: never ahead of storage.
    [
      'should pull the source only as fast as inners complete',
      {
        inners: { a: '---A|', b: '-B|', c: '--C|', d: '-D|', e: '-E|' },
        pull: 'abcde',
        concurrency: 2,
        expected: '-B-ACDE|',
        subs: { a: '^---!', b: '^-!', c: '--^--!', d: '----^-!', e: '-----^-!' },
        pulls: ['0:2', '2:1', '4:1', '5:1'],
      },
    ],
    // The contrast: plain mergeMap subscribes the source eagerly; with request, the source is
    // asked for exactly as many values as there are free slots.
    [
      'should hold no outer value beyond the window when the source pushes anyway',
      { inners: { '*': '---x|' }, pull: 'abcd', concurrency: 1, expected: '---x---x---x---x|', pulls: ['0:1', '4:1', '8:1', '12:1'] },
    ],
    [
      'should cancel all in-flight inners and stop pulling when unsubscribed',
      {
        inners: { '*': '-----x|' },
        pull: 'abcd',
        concurrency: 2,
        unsubscribe: '---!',
        expected: '---',
        subs: { '*': ['^--!', '^--!'] },
        pulls: ['0:2'],
      },
    ],
  ])('%s', (_title, c) => runBoundedCase(mergeMapBounded, c));

  it('matches plain mergeMap when values arrive slower than inners complete', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const source = cold('a---b---c|');
      const project = (k: string) => cold('-x|', { x: k.toUpperCase() });
      expectObservable(source.pipe(mergeMapBounded(project, 2))).toBe('-A---B---C|');
      expectObservable(source.pipe(mergeMap(project, 2))).toBe('-A---B---C|');
    });
  });
});
