import { describe, expect, it } from 'vitest';
import { concatMapEager, mergeMapBounded } from '../../src/index.js';
import { runBoundedCase, testScheduler, type BoundedCase } from '../helpers/marbles.js';

/**
 * The contract concatMapEager and mergeMapBounded share (both are boundedMerge): a window of N
 * inners, credit from a slow consumer, errors and cancellation. Where the two differ only in
 * the order they deliver, a case gives each its expected marbles.
 */
const operators = [
  { name: 'concatMapEager', op: concatMapEager },
  { name: 'mergeMapBounded', op: mergeMapBounded },
] as const;
type Name = (typeof operators)[number]['name'];

const windowOfN: Record<Name, BoundedCase> = {
  // c and d start only at frame 4, when a is delivered and done and b leaves the window.
  concatMapEager: {
    inners: { a: '---A|', b: '-B|', c: '-C|', d: 'D|' },
    concurrency: 2,
    expected: '---ABC(D|)',
    subs: { a: '^---!', b: '^-!', c: '----^-!', d: '----^!' },
  },
  // Each inner takes the slot of the one that completed just before.
  mergeMapBounded: {
    inners: { a: '--A|', b: '---B|', c: '-C|', d: '-D|', e: '-E|' },
    concurrency: 2,
    expected: '--ABCDE|',
    subs: { a: '^--!', b: '^---!', c: '---^-!', d: '----^-!', e: '-----^-!' },
  },
};

const slowConsumer: Record<Name, BoundedCase> = {
  // A is delivered on the first credit; its slot goes to c. Then the window (b, c) is full of
  // undelivered results, so d waits until the consumer's next credit at frame 6.
  concatMapEager: {
    inners: { a: 'A|', b: 'B|', c: 'C|', d: 'D|' },
    concurrency: 2,
    demand: '1-----1-1-1',
    expected: 'A-----B-C-(D|)',
    subs: { a: '^!', b: '^!', c: '-^!', d: '------^!' },
  },
  mergeMapBounded: {
    inners: { a: 'A|', b: 'B|', c: 'C|', d: 'D|' },
    concurrency: 2,
    demand: '1----1---1-1',
    expected: 'A----B---C-(D|)',
    subs: { c: '-^!', d: '-----^!' },
  },
};

describe.each(operators)('$name: the bounded-merge contract', ({ name, op }) => {
  it('should never subscribe more than N inners at once', () => runBoundedCase(op, windowOfN[name]));

  it('should stop subscribing new inners while a slow consumer gives no credit', () => runBoundedCase(op, slowConsumer[name]));

  it('should cancel every other inner when one inner errors', () =>
    runBoundedCase(op, {
      inners: { a: '-----A|', b: '--#', c: '------C|' },
      concurrency: 3,
      expected: '--#',
      subs: { a: '^-!', c: '^-!' },
    }));

  it('should send an error thrown by the project function to the subscriber', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const result = cold('a-b|').pipe(
        op((k: string) => {
          if (k === 'b') throw new Error('boom');
          return cold('-A|');
        }, 2),
      );
      expectObservable(result).toBe('-A#', { A: 'A' }, new Error('boom'));
    });
  });

  it('should reject a concurrency that is not a positive integer', () => {
    const empty = testScheduler().createColdObservable('|');
    for (const bad of [0, -1, 1.5]) expect(() => op(() => [], bad)(empty), String(bad)).toThrow(/concurrency/);
  });
});
