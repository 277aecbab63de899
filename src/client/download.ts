import { Observable, isObservable, type Subscription } from 'rxjs';
import type { ByteRange } from '../engine/plan.js';
import { ChunkstreamError, IntegrityError } from '../errors.js';
import { resolveOptions } from '../internal/options.js';
import * as z from '../internal/zod.js';
import { RemoteError } from '../protocol/errors.js';
import type { Frame } from '../protocol/frames.js';
import { DEFAULT_WINDOW, type ServerMessageOf } from '../protocol/messages.js';
import type { Link } from './connection.js';
import { chunkDigest } from './verify.js';

export interface ClientDownloadOptions {
  range?: ByteRange;
  /**
   * Credits from a consumer that drains asynchronously: each credit lets the server send one
   * more chunk. Without it the client grants `window` chunks and renews them as they are delivered.
   */
  demand?: Observable<number>;
  /** Chunks in flight when no `demand` is given (default 8, see DOWNLOAD_DEFAULTS). */
  window?: number;
}

/**
 * The download credit is twice the gateway's default window (DEFAULT_WINDOW, 4) on purpose: the
 * server reads `window` chunks ahead, and as many again may be on the wire or being verified
 * here (SHA-256 off the event loop), so the server never waits for credit while the client
 * checks what it got. Against a gateway with a larger window (its `ready` says it) pass a larger one.
 */
export const DOWNLOAD_DEFAULTS = { window: 2 * DEFAULT_WINDOW } as const;

const downloadOptionsSchema = z.strictObject({
  /** Checked by the server like any range (bad_request naming the field). */
  range: z.optional(z.custom<ByteRange>((r) => typeof r === 'object' && r !== null, 'must be { start, end? }')),
  demand: z.optional(z.custom<Observable<number>>(isObservable, 'must be an Observable of credits')),
  // window 0 asked for nothing and then waited forever; NaN or 1.5 reached the server as credit.
  window: z.number().check(z.int(), z.gte(1), z.lte(1_000_000)),
});

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex = (d: Uint8Array) => {
  let s = '';
  for (const b of d) s += HEX[b];
  return s;
};

/** A received frame waiting for its turn: delivered once its check (if any) passed. */
interface Arrival {
  data: Uint8Array;
  offset: number;
  verified: boolean;
}

/**
 * download ─▶ header ─▶ chunk frames (in order, only against credit) ─▶ end.
 * Each frame that is a whole chunk carries the chunk's SHA-256 (frame type 3) and is verified
 * before it is delivered — off the event loop (hash threads under Node, WebCrypto in browsers),
 * several at once, delivered strictly in order. A mismatch fails the Observable with code
 * `integrity` and the bad bytes are never delivered. (Slices at a range's edges cannot be checked
 * here; the server verified their chunks before sending.) Files are immutable, so after a dropped
 * connection the rest is asked for as a range.
 */
export function downloadObservable(link: Link, id: string, options: ClientDownloadOptions): Observable<Uint8Array> {
  return new Observable<Uint8Array>((subscriber) => {
    let window: number;
    try {
      ({ window } = resolveOptions(downloadOptionsSchema, DOWNLOAD_DEFAULTS, options));
    } catch (err) {
      subscriber.error(err); // an Observable reports bad options when subscribed, like any failure
      return;
    }
    let first: ServerMessageOf<'header'> | undefined; // what the whole transfer adds up to
    let next = 0; // file offset of the next byte expected
    let received = 0;
    let delivered = 0; // bytes handed to the subscriber
    let frames = 0;
    let granted = 0; // demand mode: credits the consumer gave, in total
    let unreported = 0; // automatic mode: delivered chunks not yet returned as credit
    let live = false; // a request went out on the current socket
    let ended = false; // the server's `end` arrived
    let finished = false;
    let demandSub: Subscription | undefined;
    const queue: Arrival[] = [];

    const fail = (err: unknown) => {
      if (finished) return;
      finished = true;
      queue.length = 0;
      link.release(stream);
      demandSub?.unsubscribe();
      subscriber.error(err);
    };
    const broken = (detail: string, err?: ChunkstreamError) => {
      if (finished) return;
      link.send({ type: 'cancel', stream });
      fail(err ?? new IntegrityError(id, undefined, undefined, detail));
    };

    /** Delivers verified arrivals in order; completes once the end arrived and all were delivered. */
    const pump = () => {
      while (!finished && queue[0]?.verified) {
        const a = queue.shift()!;
        delivered += a.data.byteLength;
        subscriber.next(a.data);
        if (options.demand || subscriber.closed || delivered === first!.length) continue;
        // Renew credit in batches of half the window: fewer messages, the pipe never runs dry.
        if (++unreported >= Math.ceil(window / 2)) {
          link.send({ type: 'credit', stream, chunks: unreported });
          unreported = 0;
        }
      }
      if (!finished && ended && queue.length === 0 && delivered === received) {
        finished = true;
        link.release(stream);
        demandSub?.unsubscribe();
        subscriber.complete();
      }
    };

    const onFrame = (frame: Frame) => {
      if (!first || frame.offset !== next)
        return broken(`frame at offset ${frame.offset}, expected ${next}${first ? '' : ' after a header'}`);
      const data = frame.payload;
      next += data.byteLength;
      received += data.byteLength;
      frames++;
      if (received > first.length) return broken(`received ${received} bytes, header announced ${first.length}`);
      const { chunkSize, size } = first.file;
      const whole = frame.offset % chunkSize === 0 && (data.byteLength === chunkSize || frame.offset + data.byteLength === size);
      const arrival: Arrival = { data, offset: frame.offset, verified: !(whole && frame.digest) };
      queue.push(arrival);
      if (arrival.verified) return pump();
      const expected = hex(frame.digest!);
      chunkDigest(data).then(
        ({ hex: got, bytes }) => {
          if (got !== expected) {
            const index = Math.floor(frame.offset / chunkSize);
            return broken('', new IntegrityError(id, index, expected, `SHA-256 of the received chunk is ${got}`));
          }
          arrival.data = bytes; // in browsers the bytes went to a hashing worker and back
          arrival.verified = true;
          pump();
        },
        (err) => broken(`verifying the chunk at ${frame.offset} failed`, err instanceof ChunkstreamError ? err : undefined),
      );
    };

    const onEnd = () => {
      if (!first || received !== first.length) return broken(`ended after ${received} of ${first?.length ?? '?'} bytes`);
      ended = true;
      pump();
    };

    const stream = link.register({
      start() {
        unreported = 0;
        let range = options.range;
        if (first) {
          // A resume: only what is missing, of the very same file.
          if (received === first.length) return onEnd(); // only the end message was lost
          range = { start: next, end: first.range ? first.range.end : first.file.size - 1 };
        }
        live = true;
        const credit = Math.min(1_000_000, options.demand ? Math.max(0, granted - frames) : window);
        link.send({ type: 'download', stream, id, range, credit, digests: true });
      },
      message(msg) {
        if (msg.type === 'header') {
          if (!first) {
            first = msg;
            next = msg.range?.start ?? 0;
          } else if (msg.file.sha256 !== first.file.sha256 || msg.file.size !== first.file.size) broken('the file changed during a resume');
        } else if (msg.type === 'end') onEnd();
        else if (msg.type === 'error') fail(new RemoteError(msg.code, msg.message, msg.stream));
      },
      frame: onFrame,
      lost() {
        live = false;
        return true; // redialled and resumed by start(); if redialling fails, fail() is called
      },
      fail,
    });

    if (options.demand) {
      demandSub = options.demand.subscribe({
        next: (n) => {
          if (finished) return;
          if (!(Number.isInteger(n) && n > 0)) return fail(new RangeError(`demand must be a positive integer (got ${n})`));
          granted += n;
          if (live) link.send({ type: 'credit', stream, chunks: n }); // else start() sends it
        },
        error: (err) => fail(err),
      });
    }

    return () => {
      demandSub?.unsubscribe();
      if (finished) return;
      finished = true;
      queue.length = 0;
      link.release(stream);
      link.send({ type: 'cancel', stream });
    };
  });
}
