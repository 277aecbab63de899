import { EMPTY, Observable, defer, from, map, mergeMap } from 'rxjs';
import { abortError } from '../internal/abort.js';
import { Limiter } from '../internal/limiter.js';
import { SlabPool, type Slab } from '../internal/slabs.js';
import type { CachedChunk } from '../internal/chunk-cache.js';
import type { HeldBytes } from '../internal/gauge.js';
import { concatMapEager } from '../operators/concatMapEager.js';
import type { EngineContext } from './context.js';
import { notify, type TransferMeter } from './observer.js';
import { planDownload, type ByteRange, type DownloadPlan } from './plan.js';
import { chunkFailed } from './damage.js';
import { readVerified } from './readChunk.js';
import { transfer } from './transfer.js';

export interface DownloadOptions {
  range?: ByteRange;
  signal?: AbortSignal;
  /** Credits from a consumer that drains asynchronously (see FlowControl.demand). */
  demand?: Observable<number>;
  /** Also counts this transfer's held bytes (the store's gauge always does). */
  gauge?: HeldBytes;
  /** Overrides the store's downloadConcurrency for this transfer. */
  concurrency?: number;
  /**
   * Lend the transfer's own buffers instead of handing out copies. Each chunk is then a view into a
   * buffer that is reused once you acknowledge it: with `demand`, by your next credit; without, when
   * your `next` handler returns. Copy what you keep. Saves a copy per chunk; the gateways use it,
   * acknowledging each chunk when its socket write completed.
   */
  lend?: boolean;
  /**
   * With `lend`: you only read the chunks (you write nothing into them, nor into the headroom
   * before them). Chunks the store has in memory (its cache) are then lent by reference instead of
   * copied into a transfer buffer: a socket write from them is the only copy. The HTTP gateway
   * reads only; the WebSocket gateway writes its frame header before each chunk, so it does not.
   */
  readOnly?: boolean;
  /** Labels this transfer for the store's observers and adds up its bytes (default: the ambient one, see withMeter). */
  meter?: TransferMeter;
}

interface Piece {
  /** A view into `slab` or `cached`: lent as is, or copied at delivery. */
  bytes: Uint8Array;
  slab?: Slab;
  /** A chunk from the store's cache, pinned until the consumer lets go (delivered by reference or copied at delivery). */
  cached?: CachedChunk;
}

/**
 * The ordered parallel read of a plan's chunks into reusable slabs:
 *
 *   chunks:  0----1----2----3|          (indexes: tiny)
 *   reads:   [0 ][1][2  ][3]            (≤ concurrency store reads in flight, each into a slab)
 *   hashes:      [0] [1][2] [3]         (on a hash thread, in place, while the next reads already wait)
 *   out:     ----0-12----3|             (strictly in order; edges sliced to the range)
 *
 * Two limits, because a store read's latency holds no bytes but its buffer does: `concurrency`
 * store reads at once, and (concurrency + 1) slabs out at once; a slab is out until the consumer
 * let go of its chunk (acknowledged it, or `next` returned). Without `demand`, and when the store
 * can (`capabilities.lateInto`), a read takes its slab only when its bytes are about to arrive,
 * so reads wait out their latency while every slab is busy being hashed, waiting its turn or
 * delivered; with `demand` a read starts with its slab (a paused consumer holds no reads). Either
 * way a chunk's verification, its wait for its turn and its delivery overlap the next reads (at
 * concurrency 1: read i + 1 waits out its latency while chunk i is hashed and delivered), and the
 * transfer never holds more than (concurrency + 1) × chunkSize, counted in the gauge from `take`
 * to `give`, whatever the consumer's speed.
 */
export function readPlan(ctx: EngineContext, plan: DownloadPlan, options: Omit<DownloadOptions, 'range'> = {}): Observable<Uint8Array> {
  if (plan.length === 0) return EMPTY;
  return transfer(ctx, 'download', options, (t) => {
    const m = plan.manifest;
    const n = options.concurrency ?? ctx.options.downloadConcurrency;
    const pool = new SlabPool(m.chunkSize, t.gauge);
    const room = new Limiter(n + 1);
    const reads = new Limiter(n);
    const lend = options.lend === true;
    const cache = ctx.cache;
    /** The chunk's range within it, when the plan's edges cut it; undefined for the whole chunk. */
    const edges = (i: number, size: number): [number, number] | undefined => {
      const base = i * m.chunkSize;
      const from = i === plan.first ? plan.start - base : 0;
      const to = i === plan.last ? plan.end - base + 1 : size;
      return from === 0 && to === size ? undefined : [from, to];
    };
    /**
     * A cached chunk's bytes for this consumer, in its turn for room: by reference to one that
     * only reads it, or that gets a copy at delivery anyway; else copied into a slab of the
     * transfer's own (a lent slab is the consumer's to write before, as the WebSocket gateway does).
     */
    const fromCache = async (cached: CachedChunk, takeRoom: () => Promise<void>, takeSlab: () => Promise<Slab>): Promise<Buffer> => {
      if (!lend || options.readOnly === true) {
        await takeRoom();
        return cached.bytes;
      }
      const s = await takeSlab();
      const data = s.data(cached.bytes.byteLength);
      data.set(cached.bytes);
      return data;
    };
    // Late slabs only without `demand`: such a consumer takes each chunk as `next` runs, so slabs
    // always come back and a read waiting for one waits for the pipeline. A consumer with demand
    // may pause for good; then reads waiting inside the store for a slab would hold sockets and
    // file handles for nothing, so there a read starts only with its slab in hand.
    const late = !options.demand && ctx.store.capabilities.lateInto === true;
    // Slabs are granted in chunk order: a later chunk whose bytes came first never takes the slab
    // an earlier one needs (that could leave every slab with chunks that must wait for it).
    let turn: Promise<void> = Promise.resolve();
    const read = async (i: number): Promise<Piece> => {
      const myTurn = turn;
      let passTurn!: () => void;
      turn = new Promise<void>((resolve) => (passTurn = resolve));
      let slab: Slab | undefined;
      let over = false; // the read failed: a take still on its way gives its room straight back
      let roomHeld = false;
      const takeRoom = async (): Promise<void> => {
        try {
          await myTurn;
          const room$ = room.acquire(t.signal); // queued now, so the next chunk queues behind it
          passTurn();
          await room$;
        } finally {
          passTurn();
        }
        if (over || t.signal.aborted) {
          room.release(); // a torn-down transfer reads nothing more into it
          throw abortError(t.signal);
        }
        roomHeld = true;
      };
      const takeSlab = async (): Promise<Slab> => {
        await takeRoom();
        return (slab = pool.take());
      };
      const ref = m.chunks[i]!;
      const cached = cache?.get(ref.key, ref.size);
      if (cache && ctx.observers.size > 0) notify(ctx.observers, (o) => o.chunkCache?.(cached !== undefined, ref.size));
      if (cached) {
        // In memory, verified when it was read: no store read, no hash.
        try {
          const bytes = await fromCache(cached, takeRoom, takeSlab);
          const span = edges(i, bytes.byteLength);
          if (bytes !== cached.bytes)
            cache!.unpin(cached); // copied into our slab: the cache's bytes are free again
          else t.gauge.add(bytes.byteLength); // held by reference: counted as a slab would be
          return { bytes: span ? bytes.subarray(span[0], span[1]) : bytes, slab, cached: bytes === cached.bytes ? cached : undefined };
        } catch (err) {
          over = true;
          passTurn();
          cache!.unpin(cached);
          if (slab) pool.give(slab);
          if (roomHeld) room.release();
          throw err;
        }
      }
      try {
        if (!late) await takeSlab();
        await reads.acquire(t.signal);
        let reading = true;
        const readDone = () => {
          if (!reading) return;
          reading = false;
          reads.release();
        };
        let view: Buffer;
        try {
          view = await readVerified(ctx.store, ref, slab ?? takeSlab, { fileId: m.id, index: i }, t.signal, readDone);
        } finally {
          readDone();
        }
        const span = edges(i, view.byteLength);
        // A consumer that writes nothing into its chunks can share the slab with the cache: the
        // cache adopts it (no copy) and the pool takes another. A lender that may write gets its
        // slab to itself, and the cache a copy.
        const adopted = cache && (!lend || options.readOnly === true) ? cache.adopt(ref.key, slab!, view.byteLength) : undefined;
        if (adopted) {
          pool.handOver(slab!);
          t.gauge.add(adopted.bytes.byteLength); // held by reference from here: counted as a hit is
          return { bytes: span ? adopted.bytes.subarray(span[0], span[1]) : adopted.bytes, cached: adopted };
        }
        cache?.offer(ref.key, view);
        return { bytes: span ? view.subarray(span[0], span[1]) : view, slab: slab! };
      } catch (err) {
        over = true;
        passTurn();
        if (slab) {
          pool.give(slab); // failed or aborted: nothing writes into it any more
          room.release();
        }
        throw await chunkFailed(ctx, m, i, err); // a corrupt chunk is moved aside, a missing one said in the file's terms
      }
    };
    return from(Array.from({ length: plan.chunks }, (_, k) => plan.first + k)).pipe(
      // A slot for each slab and each read waiting without one; `room` and `reads` do the limiting.
      concatMapEager(read, late ? 2 * n + 1 : n + 1, {
        demand: options.demand,
        weigh: (p) => p.bytes.byteLength,
        release: (p, reusable) => {
          if (p.cached) {
            t.gauge.release(p.cached.bytes.byteLength);
            cache!.unpin(p.cached, lend && !reusable); // still lent when the stream ended: never reused
          } else if (reusable || !lend) pool.give(p.slab!);
          else pool.forget(p.slab!); // still lent when the stream ended: a socket may be writing from it
          room.release();
        },
      }),
      // A copy of its own, made at delivery: the slab goes back once `next` returned (or the copy was acknowledged).
      map((p) => (t.count(p.bytes.byteLength), lend ? p.bytes : Buffer.from(p.bytes))),
      (bytes$) =>
        new Observable<Uint8Array>((subscriber) => {
          subscriber.add(bytes$.subscribe(subscriber));
          return () => pool.close();
        }),
    );
  });
}

/** A file by id: its manifest read first (inside the transfer, so an abort stops that too), then its chunks. */
export function download(ctx: EngineContext, id: string, options: DownloadOptions = {}): Observable<Uint8Array> {
  return defer(() => from(ctx.catalog.readManifest(id, { signal: options.signal }))).pipe(
    mergeMap((m) => readPlan(ctx, planDownload(m, options.range), options)),
  );
}
