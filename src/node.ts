import { Readable } from 'node:stream';
import type { Observable, Subscription } from 'rxjs';
import { toChunkstreamError } from './errors.js';
import { createDemand } from './operators/demand.js';

/** An Observable of bytes, or a function building one from a credit channel. */
export type ByteStreamSource = Observable<Uint8Array> | ((demand$: Observable<number>) => Observable<Uint8Array>);

/**
 * Node interop: a Readable for `stream.pipeline()`. Given a function of `demand$` (as
 * `store.readable` does), one chunk is requested per `read()` call: a slow writable stops
 * the reads. A plain Observable cannot be paused; the Readable buffers what it pushes.
 * Destroying the Readable unsubscribes, which cancels in-flight reads.
 */
export function toReadable(source: ByteStreamSource): Readable {
  const { demand$, request } = createDemand();
  let sub: Subscription | undefined;
  const readable: Readable = new Readable({
    highWaterMark: 1,
    read() {
      if (!sub) {
        const bytes$ = typeof source === 'function' ? source(demand$) : source;
        sub = bytes$.subscribe({
          next: (chunk) => void readable.push(chunk),
          error: (err: unknown) => readable.destroy(toChunkstreamError(err)),
          complete: () => void readable.push(null),
        });
      }
      request(1);
    },
    destroy(err, callback) {
      sub?.unsubscribe();
      callback(err);
    },
  });
  return readable;
}
