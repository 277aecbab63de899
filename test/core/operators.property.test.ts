import fc from 'fast-check';
import { defer, finalize, from, map, mergeMap, range, timer, type Observable, type OperatorFunction } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { HeldBytes, concatMapEager, createDemand, mergeMapBounded } from '../../src/index.js';

// Inners with random delays and value counts, run in virtual time: any completion order.
const specs = fc.array(fc.record({ delay: fc.nat(8), count: fc.integer({ min: 0, max: 3 }) }), { maxLength: 14 });
const concurrency = fc.integer({ min: 1, max: 5 });
const ackDelays = fc.array(fc.nat(6), { minLength: 1, maxLength: 8 });

type Spec = { delay: number; count: number };

function harness(list: Spec[]) {
  const state = { active: 0, maxActive: 0 };
  const inner = (i: number): Observable<string> =>
    defer(() => {
      state.active++;
      state.maxActive = Math.max(state.maxActive, state.active);
      const { delay, count } = list[i]!;
      return timer(delay).pipe(mergeMap(() => range(0, count).pipe(map((k) => `${i}.${k}`))));
    }).pipe(finalize(() => state.active--));
  const expected = list.flatMap((s, i) => Array.from({ length: s.count }, (_, k) => `${i}.${k}`));
  return { state, inner, expected };
}

/** The inners of `list` through `op`, to the end, in virtual time: what came out, and whether it completed. */
function runInVirtualTime(list: Spec[], op: (inner: (i: number) => Observable<string>) => OperatorFunction<number, string>) {
  const { state, inner, expected } = harness(list);
  const out: string[] = [];
  let done = false;
  new TestScheduler(() => undefined).run(({ flush }) => {
    from(list.map((_, i) => i))
      .pipe(op(inner))
      .subscribe({ next: (v) => out.push(v), complete: () => (done = true) });
    flush();
  });
  return { out, done, state, expected };
}

describe('operators (property)', () => {
  it('concatMapEager keeps input order and never runs more than N inners', () => {
    fc.assert(
      fc.property(specs, concurrency, (list, n) => {
        const { out, done, state, expected } = runInVirtualTime(list, (inner) => concatMapEager(inner, n));
        expect(done).toBe(true);
        expect(out).toEqual(expected);
        expect(state.maxActive).toBeLessThanOrEqual(n);
        expect(state.active).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('mergeMapBounded delivers every value once, each inner in its own order, ≤ N inners at once', () => {
    fc.assert(
      fc.property(specs, concurrency, (list, n) => {
        const { out, state, expected } = runInVirtualTime(list, (inner) => mergeMapBounded(inner, n));
        expect([...out].sort()).toEqual([...expected].sort());
        for (let i = 0; i < list.length; i++) {
          const mine = out.filter((v) => v.startsWith(`${i}.`));
          expect(mine).toEqual(expected.filter((v) => v.startsWith(`${i}.`)));
        }
        expect(state.maxActive).toBeLessThanOrEqual(n);
      }),
      { numRuns: 300 },
    );
  });

  it('with a consumer that acknowledges each value late, held values stay ≤ N × (values per inner) + 1', () => {
    fc.assert(
      fc.property(specs, concurrency, ackDelays, fc.boolean(), (list, n, acks, ordered) => {
        new TestScheduler(() => undefined).run(({ flush }) => {
          const { inner, expected } = harness(list);
          const gauge = new HeldBytes();
          const { demand$, request } = createDemand();
          const op = ordered ? concatMapEager : mergeMapBounded;
          const out: string[] = [];
          let k = 0;
          from(list.map((_, i) => i))
            .pipe(op(inner, n, { demand: demand$, gauge, weigh: () => 1 }))
            .subscribe((v) => {
              out.push(v);
              // The consumer holds the value a while, then acknowledges it and asks for one more.
              timer(acks[k++ % acks.length]!).subscribe(() => request(1));
            });
          request(1);
          flush();
          expect(out.length).toBe(expected.length);
          if (ordered) expect(out).toEqual(expected);
          const perInner = Math.max(0, ...list.map((s) => s.count));
          expect(gauge.peak).toBeLessThanOrEqual(n * perInner + 1);
          expect(gauge.held).toBe(0);
        });
      }),
      { numRuns: 300 },
    );
  });
});
