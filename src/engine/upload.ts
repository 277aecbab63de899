import { Observable, concat, defer, of, switchMap } from 'rxjs';
import { alreadyCommitted, finish } from './committed.js';
import type { EngineContext } from './context.js';
import { storeChunks } from './upload-chunks.js';
import { openUpload } from './upload-session.js';
import { transfer } from './transfer.js';
import type { OpenUpload, UploadEvent, UploadOptions, UploadSource } from './upload-types.js';

export type { UploadEvent, UploadOptions, UploadSource } from './upload-types.js';

/**
 * source bytes ─chunk into slabs─▶ a b c d …     (pulled one chunk per free slot)
 * hash threads: chunk keys ‖ the whole-file SHA-256 (in order, its own thread)
 * store (mergeMapBounded, N): [a][b]  [c][d]      (≤ N puts in flight, + 1 chunk being cut)
 * progress: the contiguous stored prefix, made durable and saved every few chunks
 * then: one flush of the staged chunks, the manifest in one atomic put under the file id the
 * session reserved, and a committed marker, so a resume by upload id learns the outcome.
 */
export function upload(ctx: EngineContext, source: UploadSource, options: UploadOptions): Observable<UploadEvent> {
  return transfer(ctx, 'upload', options, (t) => {
    let open: OpenUpload | undefined;
    let over = false;
    return new Observable<UploadEvent>((subscriber) => {
      subscriber.add(
        defer(async () => {
          const opened = await openUpload(ctx, options, t);
          // Torn down while its session was being saved: it is interrupted now, like any other.
          if (over && !('manifest' in opened)) opened.interrupted();
          return opened;
        })
          .pipe(
            switchMap((opened) => {
              if ('manifest' in opened) return alreadyCommitted(opened.uploadId, opened.manifest); // the source is never opened
              open = opened;
              opened.onError = (err) => subscriber.error(err);
              const { session } = opened;
              const offset = opened.offset;
              return concat(
                of<UploadEvent>({ type: 'started', uploadId: session.uploadId, offset }),
                defer(() => storeChunks(ctx, opened, typeof source === 'function' ? source(offset) : source, options, t)),
                defer(() => finish(ctx, opened, options, t)),
              );
            }),
          )
          .subscribe(subscriber),
      );
      // An interrupted upload records how far it got, so a resume sends only what is missing.
      return () => ((over = true), open?.interrupted());
    });
  });
}
