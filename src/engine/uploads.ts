import { isChunkstreamError } from '../errors.js';
import type { CallOptions } from '../storage/types.js';
import type { EngineContext } from './context.js';

/** An unfinished upload, as `chunkstream uploads` and `GET /v1/uploads` list it. */
export interface UploadInfo {
  uploadId: string;
  name: string;
  /** Bytes durably stored: a resume continues from here. */
  offset: number;
  chunkSize: number;
  created: string;
  /** When its progress was last recorded. */
  updated: string;
  expires: string;
  /** Past `expires`: a resume fails with not_found, and the next gc removes it. */
  expired: boolean;
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
        chunkSize: s.chunkSize,
        created: s.created,
        updated: modified.toISOString(),
        expires: s.expires,
        expired: Date.parse(s.expires) <= ctx.options.now(),
      });
    } catch (err) {
      // Committed or aborted while we listed, or unreadable (verify and gc deal with those).
      if (isChunkstreamError(err) && (err.code === 'not_found' || err.code === 'corrupt_manifest')) continue;
      throw err;
    }
  }
  return out.sort((a, b) => a.created.localeCompare(b.created) || a.uploadId.localeCompare(b.uploadId));
}
