import type { FileHandle } from 'node:fs/promises';
import { Observable, finalize, mergeMap } from 'rxjs';
import { BadRequestError, TooLargeError } from '../errors.js';
import { chunkKey } from '../catalog/catalog.js';
import type { ChunkRef } from '../catalog/schema.js';
import { slabChunks, type SlabChunk, type SlabSource } from '../internal/chunker.js';
import { digest } from '../internal/hashing.js';
import { SlabPool } from '../internal/slabs.js';
import { toByteIterable, type ByteSource } from '../internal/source.js';
import { fromPull } from '../operators/fromPull.js';
import { mergeMapBounded } from '../operators/mergeMapBounded.js';
import { holdLive, type EngineContext } from './context.js';
import type { Transfer } from './transfer.js';
import type { OpenUpload, UploadEvent, UploadOptions } from './upload-types.js';

interface Stored {
  index: number;
  ref: ChunkRef;
  /** A segment's partial last chunk: recorded as the session's tail, not as a chunk. */
  tail: boolean;
}

/**
 * Stores the source's chunks: each is keyed on a hash thread while the whole-file hash takes it
 * on its own thread, in order; ≤ `concurrency` puts run at once and complete in any order; the
 * contiguous prefix is recorded in the session (saved every few chunks) and reported as progress.
 *
 * The source is pulled only while fewer than concurrency + 1 chunks are past the recorded
 * prefix: memory stays at (concurrency + 1) slabs and a resume never resends more than that,
 * even when a slow put lets later chunks finish first.
 */
export function storeChunks(
  ctx: EngineContext,
  up: OpenUpload,
  source: ByteSource | FileHandle,
  options: UploadOptions,
  t: Transfer,
): Observable<UploadEvent> {
  const { session } = up;
  const concurrency = options.concurrency ?? ctx.options.uploadConcurrency;
  const pool = new SlabPool(session.chunkSize, t.gauge);
  const first = up.first;
  up.first = undefined;
  const slabSource: SlabSource = isFileHandle(source)
    ? { file: source, position: up.offset }
    : {
        pieces: options.segment
          ? untilFailure(toByteIterable(source, ctx.options.sourceBufferBytes), up, t)
          : toByteIterable(source, ctx.options.sourceBufferBytes),
      };
  const pull = fromPull(slabChunks(slabSource, pool, session.chunkSize, session.chunks.length, first));
  const base = session.chunks.length;
  const done = new Map<number, Stored>();
  let total = session.size;
  let requested = 0; // chunks asked of the source
  let wanted = 0; // slots the operator asked to fill, not yet passed on
  let recorded = 0; // chunks (and a tail) recorded this time

  const forward = () => {
    const n = Math.min(wanted, concurrency + 1 - (requested - recorded));
    if (n <= 0) return;
    wanted -= n;
    requested += n;
    pull.request(n);
  };

  const store = (c: SlabChunk): Promise<Stored> => {
    total += c.length;
    // A continued tail's first bytes were received (and counted) by an earlier request.
    t.count(first && c.index === base ? c.length - first.length : c.length);
    const length = session.length;
    const fail =
      total > ctx.options.maxFileSize
        ? new TooLargeError('size', ctx.options.maxFileSize, `file exceeds maxFileSize (${ctx.options.maxFileSize} bytes)`)
        : length !== undefined && total > length
          ? new BadRequestError('size', `source has more than the expected ${length} bytes`)
          : undefined;
    if (fail) {
      pool.give(c.slab);
      throw fail;
    }
    const tail = !!options.segment && c.last && total !== length;
    const view = c.slab.data(c.length);
    // Called in chunk order (the operator starts inners in source order): the file hash sees the file in order.
    const hashed = tail ? undefined : up.hash.update(view);
    return (async () => {
      try {
        const key = await digest(view);
        holdLive(ctx, key);
        up.keys.push(key);
        await up.writer.put(chunkKey(key), view, { ifNotExists: true, signal: t.signal });
        await hashed;
        return { index: c.index, ref: { key, size: c.length }, tail };
      } finally {
        await hashed?.catch(() => undefined); // its thread reads the slab until then
        pool.give(c.slab);
      }
    })();
  };

  /** Records results in order; returns the progress events for the prefix it extended. */
  const record = (r: Stored): UploadEvent[] => {
    done.set(r.index, r);
    const before = recorded;
    for (let next = done.get(base + recorded); next; next = done.get(base + recorded)) {
      done.delete(base + recorded);
      recorded++;
      if (first && next.index === base) delete session.tail; // the earlier tail is inside this chunk now
      if (next.tail) {
        session.tail = next.ref;
        break;
      }
      session.chunks.push(next.ref);
      session.size += next.ref.size;
    }
    if (recorded === before) return [];
    up.advanced();
    forward();
    const { uploadId } = session;
    return [{ type: 'progress', uploadId, bytes: session.size, chunks: session.chunks.length, held: t.gauge.held, peakHeld: t.gauge.peak }];
  };

  return pull.values$.pipe(
    mergeMapBounded(store, concurrency, {
      request: (n) => {
        wanted += n;
        forward();
      },
    }),
    mergeMap(record),
    finalize(() => pool.close()),
  );
}

function isFileHandle(source: unknown): source is FileHandle {
  const s = source as Partial<FileHandle> | null;
  return typeof s === 'object' && s !== null && typeof s.fd === 'number' && typeof s.read === 'function' && typeof s.stat === 'function';
}

/**
 * A segment's source that fails (the client went away) just ends: what arrived is kept, and the
 * upload pauses; the transfer still counts as aborted (or failed: a stalled client's timeout).
 */
async function* untilFailure(pieces: AsyncIterable<Uint8Array>, up: OpenUpload, t: Transfer): AsyncGenerator<Uint8Array> {
  try {
    yield* pieces;
  } catch (err) {
    up.interruptedSource = true;
    t.endedShort(err);
  }
}
