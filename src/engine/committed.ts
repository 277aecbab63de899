import { defer, from, type Observable } from 'rxjs';
import { BadRequestError, NotFoundError, isChunkstreamError } from '../errors.js';
import { newId } from '../catalog/catalog.js';
import { fileInfo, manifestSchema, type CommittedUpload, type Manifest } from '../catalog/schema.js';
import type { CallOptions } from '../storage/types.js';
import { park, settle, type EngineContext } from './context.js';
import type { Transfer } from './transfer.js';
import { bindName } from './names.js';
import type { OpenUpload, UploadEvent, UploadOptions } from './upload-types.js';

/**
 * Commit is idempotent per upload id: a client whose connection dropped after the commit but
 * before it heard `committed` resumes and is told the file, instead of `not_found` (and instead
 * of storing it twice).
 *
 *   chunks flushed ─▶ manifest files/<fileId> ─▶ marker committed/<uploadId> ─▶ session deleted
 *
 * Every prefix of that sequence is recognised: a session whose reserved fileId has a manifest
 * is committed too (the marker write was cut off or failed).
 */

/** The manifest a marker names; `not_found`, saying so, if the file was removed since. */
export async function markedManifest(ctx: EngineContext, record: CommittedUpload, options: CallOptions = {}): Promise<Manifest> {
  try {
    return await ctx.catalog.readManifest(record.fileId, options);
  } catch (err) {
    if (isChunkstreamError(err) && err.code === 'not_found') {
      throw new NotFoundError(
        `file ${record.fileId}`,
        `upload ${record.uploadId} was committed as file ${record.fileId}, which has since been removed`,
      );
    }
    throw err;
  }
}

/**
 * Replaces the session with the marker. Not abortable: the file exists whatever the caller
 * does now, and a resume must learn so. Best effort (never rejects): if it fails, the
 * session's reserved fileId still leads a resume to the file.
 */
export function markCommitted(ctx: EngineContext, uploadId: string, fileId: string): Promise<void> {
  const now = ctx.options.now();
  // A fresh TTL from the commit: the client gets the whole period to learn the outcome.
  const marker: CommittedUpload = {
    version: 1,
    uploadId,
    fileId,
    committed: new Date(now).toISOString(),
    expires: new Date(now + ctx.options.uploadTtlMs).toISOString(),
  };
  return (async () => {
    await ctx.catalog.saveCommitted(marker);
    await ctx.catalog.deleteSession(uploadId);
  })().catch(() => undefined);
}

/** The events of a resume that finds its upload committed: no source is read. */
export function alreadyCommitted(uploadId: string, manifest: Manifest): Observable<UploadEvent> {
  const events: UploadEvent[] = [
    { type: 'started', uploadId, offset: manifest.size, alreadyCommitted: true },
    { type: 'committed', file: fileInfo(manifest) },
  ];
  return from(events);
}

/** A caller that expects other bytes than the file's is told so. */
export function checkExpected(options: { expectedSize?: number; expectedSha256?: string }, size: number, sha256: string): void {
  if (options.expectedSize !== undefined && size !== options.expectedSize) {
    throw new BadRequestError('size', `file has ${size} bytes, expected ${options.expectedSize}`);
  }
  if (options.expectedSha256 !== undefined && sha256 !== options.expectedSha256.toLowerCase()) {
    throw new BadRequestError('sha256', `file hashes to ${sha256}, expected ${options.expectedSha256}`);
  }
}

/** The source is done: commit the file, or — a segment that ended before the file did — pause. */
export function finish(ctx: EngineContext, up: OpenUpload, options: UploadOptions, t: Transfer): Observable<UploadEvent> {
  return defer(async (): Promise<UploadEvent> => {
    const s = up.session;
    await up.idle();
    if (typeof options.segment === 'object' && options.segment.accept) await accepted(up, options.segment.accept);
    const offset = s.size + (s.tail?.size ?? 0);
    if (options.segment && offset !== s.length) {
      await up.save(); // the tail and every chunk, durable before the offset is reported
      up.settle();
      park(ctx, s.uploadId, up.hash, s.size);
      return {
        type: 'paused',
        uploadId: s.uploadId,
        offset,
        expires: s.expires,
        ...(up.interruptedSource ? { interrupted: true as const } : {}),
      };
    }
    await up.writer.flush(t.signal); // every chunk durable before the manifest names it
    const sha256 = await up.hash.digest();
    checkExpected({ expectedSize: options.expectedSize ?? s.length, expectedSha256: options.expectedSha256 }, s.size, sha256);
    const manifest = manifestSchema.parse({
      version: 1,
      id: s.fileId ?? newId(),
      name: s.name,
      size: s.size,
      sha256,
      chunkSize: s.chunkSize,
      chunks: s.chunks,
      created: new Date().toISOString(),
      ...(s.type !== undefined ? { type: s.type } : {}),
    });
    const committing = (async () => {
      // Not created: a resume of this upload elsewhere committed it first, and that is the file.
      const created = await ctx.catalog.commitManifest(manifest, { signal: t.signal });
      up.settle();
      const file = created ? manifest : ((await ctx.catalog.findManifest(manifest.id)) ?? manifest);
      // The name after the manifest: a crash between the two leaves the name on its old file.
      const bound = await bindName(ctx, file, s.target, { signal: t.signal }).catch(async (err: unknown) => {
        if (isChunkstreamError(err) && err.code === 'precondition_failed') {
          // Refused by its conditions: no file, no upload to resume (its chunks go to gc).
          if (created) await ctx.catalog.removeManifest(file.id).catch(() => undefined);
          await ctx.catalog.deleteSession(s.uploadId).catch(() => undefined);
        }
        throw err;
      });
      await markCommitted(ctx, s.uploadId, file.id);
      return bound;
    })();
    // If this upload is interrupted now, status and resume still wait for the commit's outcome.
    void settle(
      ctx,
      s.uploadId,
      committing.then(
        (): undefined => undefined,
        () => undefined,
      ),
    );
    const bound = await committing;
    return {
      type: 'committed',
      file: bound.file,
      ...(s.target ? { created: bound.created } : {}),
      ...(s.target && bound.replaced ? { replaced: bound.replaced } : {}),
    };
  });
}

/**
 * An all-or-nothing segment is judged before anything of it is recorded. Refused: the session is
 * left as it was (nothing was saved since the segment began), the file hash — which has taken the
 * refused bytes — is dropped rather than parked, and the staged chunk puts are flushed (orphans for
 * gc) so that no staged write lingers.
 */
async function accepted(up: OpenUpload, accept: () => void | Promise<void>): Promise<void> {
  try {
    await accept();
  } catch (err) {
    up.settle();
    up.hash.drop();
    await up.writer.flush().catch(() => undefined);
    throw err;
  }
}
