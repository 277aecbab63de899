import { performance } from 'node:perf_hooks';
import type { CallOptions, ChunkStore, GetOptions, PutOptions, PutResult } from './types.js';

/** How one chunk operation ended: `aborted` when its caller's signal was (a cancelled transfer, not a fault). */
export type OpOutcome = 'ok' | 'error' | 'aborted';

/** Told of every chunk read, write and flush, with its duration in seconds. Must be cheap and must not throw. */
export interface ChunkStoreHooks {
  read?(outcome: OpOutcome, seconds: number): void;
  /** `created: false`: the chunk was already stored (a dedup hit), nothing was written. */
  write?(outcome: OpOutcome, seconds: number, created: boolean | undefined): void;
  flush?(outcome: OpOutcome, seconds: number, objects: number): void;
}

const CHUNK_PREFIX = 'chunks/';

/**
 * Wraps a ChunkStore to time its chunk operations (objects under `chunks/`; manifests, sessions
 * and config pass straight through, untimed). Options go through untouched — `get`'s `into` and
 * `lateInto` (whose wait for the buffer is not timed) and `put`'s `defer` keep their fast paths —
 * and `flush`, `sweep`, `close` exist exactly when the inner store has them (a store with `flush`
 * is asked to defer; one without, not).
 */
export function instrumentChunkStore(store: ChunkStore, hooks: ChunkStoreHooks): ChunkStore {
  const outcome = (signal: AbortSignal | undefined): OpOutcome => (signal?.aborted ? 'aborted' : 'error');
  const wrapped: ChunkStore = {
    name: store.name,
    capabilities: store.capabilities,
    async get(key: string, opts?: GetOptions): Promise<Uint8Array> {
      if (!hooks.read || !key.startsWith(CHUNK_PREFIX)) return store.get(key, opts);
      const t0 = performance.now();
      // The time a late buffer took to come is the caller's backpressure, not the store's latency.
      let waited = 0;
      const late = opts?.lateInto;
      const timed: GetOptions | undefined = late && {
        ...opts,
        lateInto: {
          size: late.size,
          take: async () => {
            const w = performance.now();
            try {
              return await late.take();
            } finally {
              waited += performance.now() - w;
            }
          },
        },
      };
      const seconds = () => (performance.now() - t0 - waited) / 1000;
      try {
        const data = await store.get(key, timed ?? opts);
        hooks.read('ok', seconds());
        return data;
      } catch (err) {
        hooks.read(outcome(opts?.signal), seconds());
        throw err;
      }
    },
    async put(key: string, data: Uint8Array, opts?: PutOptions): Promise<PutResult> {
      if (!hooks.write || !key.startsWith(CHUNK_PREFIX)) return store.put(key, data, opts);
      const t0 = performance.now();
      try {
        const r = await store.put(key, data, opts);
        hooks.write('ok', (performance.now() - t0) / 1000, r.created);
        return r;
      } catch (err) {
        hooks.write(outcome(opts?.signal), (performance.now() - t0) / 1000, undefined);
        throw err;
      }
    },
    has: (key: string, opts?: CallOptions) => store.has(key, opts),
    delete: (key: string, opts?: CallOptions) => store.delete(key, opts),
    list: (prefix: string, opts?: CallOptions) => store.list(prefix, opts),
  };
  const flush = store.flush?.bind(store);
  if (flush) {
    wrapped.flush = async (keys: readonly string[], opts?: CallOptions) => {
      if (!hooks.flush) return flush(keys, opts);
      const t0 = performance.now();
      try {
        await flush(keys, opts);
        hooks.flush('ok', (performance.now() - t0) / 1000, keys.length);
      } catch (err) {
        hooks.flush(outcome(opts?.signal), (performance.now() - t0) / 1000, keys.length);
        throw err;
      }
    };
  }
  if (store.names) Object.assign(wrapped, { names: store.names });
  if (store.move) wrapped.move = store.move.bind(store);
  if (store.sweep) wrapped.sweep = store.sweep.bind(store);
  if (store.close) wrapped.close = store.close.bind(store);
  return wrapped;
}
