import { sleep } from '../internal/abort.js';
import { resolveOptions } from '../internal/options.js';
import * as z from '../internal/zod.js';
import type { CallOptions, ChunkStore, GetOptions, PutOptions, PutResult, StoredObject } from './types.js';

export interface LatencyOptions {
  /** Delay before each `get`, in ms (default 0). */
  getMs?: number;
  /** Delay before each `put`, in ms (default 0). */
  putMs?: number;
  /** Adds `random() × jitterMs` ms to every delay (default 0). */
  jitterMs?: number;
  /** Source of randomness for the jitter, in [0, 1) (default `Math.random`): pass a seeded one for repeatable runs. */
  random?: () => number;
}

const ms = z.number().check(z.gte(0, 'must be a finite number ≥ 0'));
const latencySchema = z.strictObject({
  getMs: ms,
  putMs: ms,
  jitterMs: ms,
  random: z.custom<() => number>((f) => typeof f === 'function', 'must be a function returning a number in [0, 1)'),
});
const LATENCY_DEFAULTS = { getMs: 0, putMs: 0, jitterMs: 0, random: Math.random };

/**
 * Wraps a ChunkStore so every `get` and `put` waits first: a fixed delay plus optional random
 * jitter. Simulates a slow disk or a distant object store (benchmarks, tests, demos).
 *
 * - The wait honours the call's AbortSignal: an abort rejects at once with an `AbortError`
 *   and the inner store is never called.
 * - No timer outlives its call: the timer is cleared on abort, the abort listener removed when
 *   the timer fires. A zero delay sets no timer at all.
 * - `has`, `delete`, `list`, `flush`, `sweep` and `close` pass straight through (options, `into`
 *   and `defer` included, reach the inner store).
 */
export function withLatency(store: ChunkStore, options: LatencyOptions = {}): ChunkStore {
  const { getMs, putMs, jitterMs, random } = resolveOptions(latencySchema, LATENCY_DEFAULTS, options);
  const delayOf = (base: number) => (jitterMs > 0 ? base + random() * jitterMs : base);

  const wrapped: ChunkStore = {
    name: store.name,
    capabilities: store.capabilities,
    async get(key: string, opts: GetOptions = {}): Promise<Uint8Array> {
      await sleep(delayOf(getMs), opts.signal);
      return store.get(key, opts);
    },
    async put(key: string, data: Uint8Array, opts: PutOptions = {}): Promise<PutResult> {
      await sleep(delayOf(putMs), opts.signal);
      return store.put(key, data, opts);
    },
    has: (key: string, opts?: CallOptions) => store.has(key, opts),
    delete: (key: string, opts?: CallOptions) => store.delete(key, opts),
    list: (prefix: string, opts?: CallOptions): AsyncIterable<StoredObject> => store.list(prefix, opts),
  };
  if (store.flush) wrapped.flush = store.flush.bind(store);
  if (store.names) Object.assign(wrapped, { names: store.names });
  if (store.move) wrapped.move = store.move.bind(store);
  if (store.sweep) wrapped.sweep = store.sweep.bind(store);
  if (store.close) wrapped.close = store.close.bind(store);
  return wrapped;
}
