import { EMPTY, Observable, defer, from, map, mergeMap } from 'rxjs';
import { SlabPool, type Slab } from '../internal/slabs.js';
import type { HeldBytes } from '../internal/gauge.js';
import { concatMapEager } from '../operators/concatMapEager.js';
import type { EngineContext } from './context.js';
import type { TransferMeter } from './observer.js';
import { planDownload, type ByteRange, type DownloadPlan } from './plan.js';
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
  /** Labels this transfer for the store's observers and adds up its bytes (default: the ambient one, see withMeter). */
  meter?: TransferMeter;
}

interface Piece {
  bytes: Uint8Array;
  /** The slab `bytes` views, when lent. */
  slab?: Slab;
}

/**
 * The ordered parallel read of a plan's chunks into reusable slabs:
 *
 *   chunks:  0----1----2----3|          (indexes: tiny)
 *   reads:   [0 ][1][2  ][3]            (≤ concurrency in flight, each read into a slab, verified on a hash thread)
 *   out:     ----0-12----3|             (strictly in order; edges sliced to the range)
 *
 * Held: the slabs of reads in flight or waiting for their turn (≤ concurrency), plus the chunk the
 * consumer has not acknowledged yet: ≤ (concurrency + 1) × chunkSize, counted in the gauge.
 */
export function readPlan(ctx: EngineContext, plan: DownloadPlan, options: Omit<DownloadOptions, 'range'> = {}): Observable<Uint8Array> {
  if (plan.length === 0) return EMPTY;
  return transfer(ctx, 'download', options, (t) => {
    const m = plan.manifest;
    const pool = new SlabPool(m.chunkSize, t.gauge);
    const lend = options.lend === true;
    const read = async (i: number): Promise<Piece> => {
      const slab = pool.take();
      let lent = false;
      try {
        const view = await readVerified(ctx.store, m.chunks[i]!, slab, { fileId: m.id, index: i }, t.signal);
        const base = i * m.chunkSize;
        const from = i === plan.first ? plan.start - base : 0;
        const to = i === plan.last ? plan.end - base + 1 : view.byteLength;
        const bytes = from === 0 && to === view.byteLength ? view : view.subarray(from, to);
        if (!lend) return { bytes: Buffer.from(bytes) }; // a copy of its own: the slab is reused at once
        lent = true;
        return { bytes, slab };
      } finally {
        if (!lent) pool.give(slab); // the read settled: nothing writes into it any more
      }
    };
    return from(Array.from({ length: plan.chunks }, (_, k) => plan.first + k)).pipe(
      concatMapEager(read, options.concurrency ?? ctx.options.downloadConcurrency, {
        demand: options.demand,
        // Lent slabs are counted by the pool from take to give; copies by the operator until acknowledged.
        gauge: lend ? undefined : t.gauge,
        weigh: (p) => p.bytes.byteLength,
        release: (p, reusable) => {
          if (!p.slab) return;
          if (reusable) pool.give(p.slab);
          else pool.forget(p.slab); // still lent when the stream ended: a socket may be writing from it
        },
      }),
      map((p) => (t.count(p.bytes.byteLength), p.bytes)),
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
