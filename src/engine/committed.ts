import { from, type Observable } from 'rxjs';
import { BadRequestError, ChunkstreamError, isChunkstreamError } from '../errors.js';
import { fileInfo, type CommittedUpload, type Manifest } from '../catalog/schema.js';
import type { CallOptions } from '../storage/types.js';
import type { EngineContext } from './context.js';
import type { UploadEvent, UploadOptions } from './upload.js';

/**
 * Commit is idempotent per upload id: a client whose connection dropped after the commit but
 * before it heard `committed` resumes and is told the file, instead of `not_found` (and instead
 * of storing it twice).
 *
 *   session {fileId reserved} ─▶ manifest files/<fileId> ─▶ marker committed/<uploadId> ─▶ session deleted
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
      throw new ChunkstreamError(
        'not_found',
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
  const now = Date.now();
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
export function checkExpected(options: UploadOptions, size: number, sha256: string): void {
  if (options.expectedSize !== undefined && size !== options.expectedSize) {
    throw new BadRequestError('size', `file has ${size} bytes, expected ${options.expectedSize}`);
  }
  if (options.expectedSha256 !== undefined && sha256 !== options.expectedSha256.toLowerCase()) {
    throw new BadRequestError('sha256', `file hashes to ${sha256}, expected ${options.expectedSha256}`);
  }
}
