import { ExpiredError, isChunkstreamError } from '../errors.js';
import type { CallOptions } from '../storage/types.js';
import type { EngineContext } from './context.js';

/** An unfinished upload, as `chunkstream uploads` and `GET /v1/uploads` list it. */
export interface UploadInfo {
  uploadId: string;
  name: string;
  /** Bytes durably stored: a resume continues from here. */
  offset: number;
  /** The file's declared size (an expected size, a Content-Length, a tus Upload-Length), when known: the offset is of this. */
  size?: number;
  chunkSize: number;
  created: string;
  /** When its progress was last recorded. */
  updated: string;
  expires: string;
  /** Past `expires`: a resume fails with `expired` (HTTP 410), and the next gc removes it. */
  expired: boolean;
}

/**
 * The one expiry rule, for every protocol: an unfinished upload whose `expires` has passed cannot
 * be resumed (WebSocket, tus and the embedded API alike get `expired`), and gc removes it. A
 * resume before then refreshes `expires`. Committed uploads are not subject to it.
 */
export function isExpired(expires: string, now: number): boolean {
  return Date.parse(expires) <= now;
}

/** Throws `expired` (HTTP 410, tus's answer for a gone upload) if the session is past its expiry. */
export function checkNotExpired(s: { uploadId: string; expires: string }, now: number): void {
  if (isExpired(s.expires, now)) throw new ExpiredError(`upload ${s.uploadId} expired at ${s.expires}: start a new one`);
}

/**
 * Every upload session in the store, oldest first. A session whose reserved file id already
 * has a manifest is a commit cut off before its marker: that upload is finished, not listed.
 */
export async function listUploads(ctx: EngineContext, options: CallOptions = {}): Promise<UploadInfo[]> {
  const out: UploadInfo[] = [];
  for await (const { id, modified } of ctx.catalog.sessionEntries(options)) {
    try {
      const s = await ctx.catalog.loadSession(id, options);
      if (s.fileId && (await ctx.catalog.findManifest(s.fileId, options))) continue;
      out.push({
        uploadId: s.uploadId,
        name: s.name,
        offset: s.size + (s.tail?.size ?? 0), // a segment's durable tail counts (tus offsets are byte-exact)
        ...(s.length !== undefined && { size: s.length }),
        chunkSize: s.chunkSize,
        created: s.created,
        updated: modified.toISOString(),
        expires: s.expires,
        expired: isExpired(s.expires, ctx.options.now()),
      });
    } catch (err) {
      // Committed or aborted while we listed, or unreadable (verify and gc deal with those).
      if (isChunkstreamError(err) && (err.code === 'not_found' || err.code === 'corrupt_manifest')) continue;
      throw err;
    }
  }
  return out.sort((a, b) => a.created.localeCompare(b.created) || a.uploadId.localeCompare(b.uploadId));
}
