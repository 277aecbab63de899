import { describe, it } from 'vitest';
import { concatMapEager } from '../../src/index.js';
import { runBoundedCase } from '../helpers/marbles.js';

// What concatMapEager adds to the bounded-merge contract (bounded-operators.test.ts): input order.
describe('concatMapEager', () => {
  it('should keep input order when inner i+1 completes before inner i', () =>
    runBoundedCase(concatMapEager, {
      inners: { a: '-----A|', b: '-B|', c: '--C|' },
      concurrency: 3,
      expected: '-----A(BC|)',
      subs: { a: '^-----!', b: '^-!', c: '^--!' },
    }));

  it('should deliver all values of inner i before any value of inner i+1', () =>
    runBoundedCase(concatMapEager, { inners: { a: '-A--A|', b: 'B-B|' }, concurrency: 2, expected: '-A--A(BB|)' }));

  it('should cancel all in-flight inners when unsubscribed', () =>
    runBoundedCase(concatMapEager, {
      inners: { a: '-----A|', b: '--B|', c: '------C|' },
      concurrency: 2,
      unsubscribe: '---!',
      expected: '---',
      subs: { a: '^--!', b: '^--!', c: [] },
    }));
});
