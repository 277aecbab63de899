/**
 * A clock for the `now` option of openStore and createMemoryStore: starts at the real time (so
 * dates stay plausible next to real file times) and moves only when told. TTL and age tests
 * advance it instead of sleeping.
 */
export function fakeClock(start = Date.now()) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}
