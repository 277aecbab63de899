import { Observable, defer, finalize, from, map, mergeMap, range as rxRange } from 'rxjs';
import { BadRequestError, RangeNotSatisfiableError } from '../errors.js';
import { abortable } from '../internal/abort.js';
import { HeldBytes } from '../internal/gauge.js';
import { concatMapEager } from '../operators/concatMapEager.js';
import type { Manifest } from '../catalog/schema.js';
import type { EngineContext } from './context.js';
import { readChunk$ } from './readChunk.js';

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive (like HTTP); clamped to the file's last byte. */
  end?: number;
}

export interface DownloadOptions {
  range?: ByteRange;
  signal?: AbortSignal;
  /** Credits from a consumer that drains asynchronously (see FlowControl.demand). */
  demand?: Observable<number>;
  /** Also counts this transfer's held bytes (the store's gauge always does). */
  gauge?: HeldBytes;
  /** Overrides the store's downloadConcurrency for this transfer. */
  concurrency?: number;
}

/** Resolves a requested range against a size: inclusive [start, end], or throws 416. */
export function resolveRange(size: number, range: ByteRange | undefined): { start: number; end: number } | undefined {
  if (!range) return undefined;
  const { start, end = Number.MAX_SAFE_INTEGER } = range;
  if (!Number.isSafeInteger(start) || start < 0) throw new BadRequestError('range.start', `must be a non-negative integer (got ${start})`);
  if (!Number.isSafeInteger(end) || end < start) throw new BadRequestError('range.end', `must be an integer ≥ range.start (got ${end})`);
  if (start >= size) throw new RangeNotSatisfiableError(size, `range starts at ${start}, file has ${size} bytes`);
  return { start, end: Math.min(end, size - 1) };
}

/**
 * The ordered parallel read of a file's chunks (or of those a range overlaps):
 *
 *   chunks:  0----1----2----3|          (indexes, buffered: they are tiny)
 *   reads:   [0 ][1][2  ][3]            (≤ concurrency in flight or waiting)
 *   out:     ----0-12----3|             (strictly in order; edges sliced to the range)
 */
export function downloadManifest(ctx: EngineContext, m: Manifest, options: DownloadOptions = {}): Observable<Uint8Array> {
  const r = resolveRange(m.size, options.range);
  const start = r?.start ?? 0;
  const end = r?.end ?? m.size - 1;
  if (m.size === 0) return from([]);
  const first = Math.floor(start / m.chunkSize);
  const last = Math.floor(end / m.chunkSize);
  const gauge = new HeldBytes(ctx.gauge, options.gauge);
  const concurrency = options.concurrency ?? ctx.options.downloadConcurrency;
  return rxRange(first, last - first + 1).pipe(
    concatMapEager((i) => readChunk$(ctx.store, m.chunks[i]!, m.id, i, options.signal).pipe(map((data) => ({ i, data }))), concurrency, {
      demand: options.demand,
      gauge,
      weigh: (c) => c.data.byteLength,
    }),
    map(({ i, data }) => {
      const base = i * m.chunkSize;
      const from = i === first ? start - base : 0;
      const to = i === last ? end - base + 1 : data.byteLength;
      return from === 0 && to === data.byteLength ? data : data.subarray(from, to);
    }),
    abortable(options.signal),
    finalize(() => gauge.close()),
  );
}

export function download(ctx: EngineContext, id: string, options: DownloadOptions = {}): Observable<Uint8Array> {
  return defer(() => from(ctx.catalog.readManifest(id, { signal: options.signal }))).pipe(
    mergeMap((m) => downloadManifest(ctx, m, options)),
    abortable(options.signal),
  );
}
