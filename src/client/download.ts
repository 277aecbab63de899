import { Observable, type Subscription } from 'rxjs';
import type { ByteRange } from '../engine/download.js';
import { ChunkstreamError, InvalidOptionError } from '../errors.js';
import { RemoteError } from '../protocol/errors.js';
import type { Frame } from '../protocol/frames.js';
import type { ServerMessageOf } from '../protocol/messages.js';
import type { Link } from './link.js';
import { createSha256, type Sha256 } from './sha256.js';

export interface ClientDownloadOptions {
  range?: ByteRange;
  /**
   * Credits from a consumer that drains asynchronously: each credit lets the server send one
   * more chunk. Without it the client grants `window` chunks and renews them as they are delivered.
   */
  demand?: Observable<number>;
  /** Chunks in flight when no `demand` is given (default 8). */
  window?: number;
}

/**
 * download ─▶ header ─▶ chunk frames (in order, only against credit) ─▶ end.
 * A full download is hashed as it arrives; a digest other than the header's sha256 fails the
 * Observable with code `integrity` (the bytes were delivered, so the consumer must discard them).
 * Files are immutable, so after a dropped connection the rest is asked for as a range and the
 * hash goes on where it stopped.
 */
export function downloadObservable(link: Link, id: string, options: ClientDownloadOptions): Observable<Uint8Array> {
  return new Observable<Uint8Array>((subscriber) => {
    const window = options.window ?? 8;
    // window 0 asked for nothing and then waited forever; NaN or 1.5 reached the server as credit.
    if (!(Number.isInteger(window) && window >= 1 && window <= 1_000_000)) {
      subscriber.error(new InvalidOptionError('window', `must be an integer from 1 to 1000000 (got ${window})`));
      return;
    }
    let first: ServerMessageOf<'header'> | undefined; // what the whole transfer adds up to
    let hasher: Sha256 | undefined;
    let next = 0; // file offset of the next byte expected
    let received = 0;
    let frames = 0;
    let granted = 0; // demand mode: credits the consumer gave, in total
    let unreported = 0; // automatic mode: delivered chunks not yet returned as credit
    let live = false; // a request went out on the current socket
    let finished = false;
    let demandSub: Subscription | undefined;

    const fail = (err: unknown) => {
      finished = true;
      link.release(stream);
      demandSub?.unsubscribe();
      subscriber.error(err);
    };
    const broken = (detail: string) => {
      link.send({ type: 'cancel', stream });
      fail(new ChunkstreamError('integrity', `download of file ${id}: ${detail}`));
    };

    const onFrame = (frame: Frame) => {
      if (!first || frame.offset !== next)
        return broken(`frame at offset ${frame.offset}, expected ${next}${first ? '' : ' after a header'}`);
      const data = frame.payload;
      next += data.byteLength;
      received += data.byteLength;
      frames++;
      if (received > first.length) return broken(`received ${received} bytes, header announced ${first.length}`);
      hasher?.update(data);
      subscriber.next(data);
      if (options.demand || subscriber.closed || received === first.length) return;
      // Renew credit in batches of half the window: fewer messages, the pipe never runs dry.
      if (++unreported >= Math.ceil(window / 2)) {
        link.send({ type: 'credit', stream, chunks: unreported });
        unreported = 0;
      }
    };

    const onEnd = () => {
      if (!first || received !== first.length) return broken(`ended after ${received} of ${first?.length ?? '?'} bytes`);
      if (hasher) {
        const digest = hasher.hex();
        if (digest !== first.file.sha256) return broken(`SHA-256 is ${digest}, the server announced ${first.file.sha256}`);
      }
      finished = true;
      link.release(stream);
      demandSub?.unsubscribe();
      subscriber.complete();
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
        link.send({ type: 'download', stream, id, range, credit });
      },
      message(msg) {
        if (msg.type === 'header') {
          if (!first) {
            first = msg;
            next = msg.range?.start ?? 0;
            if (!options.range) hasher = createSha256();
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
      link.release(stream);
      link.send({ type: 'cancel', stream });
    };
  });
}
