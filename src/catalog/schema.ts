import * as z from '../internal/zod.js';
import { ID, MAX_METADATA_CHARS, mediaTypeSchema } from './model.js';
import { objectNameSchema } from './names.js';

const SHA256 = /^[0-9a-f]{64}$/;

export const chunkRefSchema = z.strictObject({ key: z.string().check(z.regex(SHA256)), size: z.number().check(z.int(), z.positive()) });

const id = z.string().check(z.regex(ID));
const count = z.number().check(z.int(), z.nonnegative());
const positive = z.number().check(z.int(), z.positive());

export const manifestSchema = z
  .strictObject({
    version: z.literal(1),
    id,
    name: objectNameSchema,
    size: count,
    sha256: z.string().check(z.regex(SHA256)),
    chunkSize: positive,
    chunks: z.array(chunkRefSchema),
    created: z.iso.datetime(),
    /** The media type its uploader declared (a tus `filetype`), if any: absent in most manifests. */
    type: z.optional(mediaTypeSchema),
  })
  .check(
    z.superRefine((m, ctx) => {
      // Offsets are computed as index × chunkSize: only the last chunk may be short.
      let total = 0;
      m.chunks.forEach((c, i) => {
        total += c.size;
        const last = i === m.chunks.length - 1;
        if (last ? c.size > m.chunkSize : c.size !== m.chunkSize) {
          ctx.addIssue({
            code: 'custom',
            path: ['chunks', i, 'size'],
            message: `chunk ${i} has size ${c.size}, chunkSize is ${m.chunkSize}`,
          });
        }
      });
      if (total !== m.size) ctx.addIssue({ code: 'custom', path: ['size'], message: `chunks add up to ${total}, size says ${m.size}` });
    }),
  );

export type Manifest = z.infer<typeof manifestSchema>;
export type ChunkRef = z.infer<typeof chunkRefSchema>;

/** What callers see of a committed file (the manifest without its chunk list). */
export interface FileInfo {
  id: string;
  name: string;
  size: number;
  sha256: string;
  chunkSize: number;
  chunkCount: number;
  created: string;
  /** The media type declared at upload (tus `filetype`); only present when one was. */
  type?: string;
  /**
   * Only from `stat`, only when some are: chunks a read found corrupt (moved aside) or missing,
   * not stored again since. Reading the file fails at the first; uploading it again heals it.
   */
  damaged?: { index: number; start: number; end: number; reason: 'corrupt' | 'missing' }[];
}

export function fileInfo(m: Manifest): FileInfo {
  return {
    id: m.id,
    name: m.name,
    size: m.size,
    sha256: m.sha256,
    chunkSize: m.chunkSize,
    chunkCount: m.chunks.length,
    created: m.created,
    ...(m.type !== undefined ? { type: m.type } : {}),
  };
}

/** An unfinished upload: the lease gc respects and the state a resume continues from. */
export const sessionSchema = z.strictObject({
  version: z.literal(1),
  uploadId: id,
  name: objectNameSchema,
  chunkSize: positive,
  /** Bytes durably stored as the contiguous chunk prefix below. */
  size: count,
  chunks: z.array(chunkRefSchema),
  created: z.iso.datetime(),
  expires: z.iso.datetime(),
  /**
   * The id the manifest is committed under, chosen up front: a resume after a commit cut off
   * between the manifest and its marker finds the file by it. Absent in older sessions.
   */
  fileId: z.optional(id),
  /** The file's declared size, when known (an expected size, a tus Upload-Length): it commits when reached. */
  length: z.optional(count),
  /**
   * Bytes past the last whole chunk, durably stored as a chunk object of their own (a segment
   * that ended mid-chunk: tus offsets are byte-exact). The upload's offset is size + tail.size.
   */
  tail: z.optional(chunkRefSchema),
  /** The file's media type, carried into its manifest at commit. */
  type: z.optional(mediaTypeSchema),
  /** Opaque client metadata kept with the upload and returned by its status (a tus Upload-Metadata header). */
  metadata: z.optional(z.string().check(z.maxLength(MAX_METADATA_CHARS))),
  /**
   * A store to the name (`uploadTo`): at commit the file replaces the name's file (which is
   * removed), under these conditions. Absent: an upload that only names its file (the name then
   * means it, and earlier files of that name stay reachable by id).
   */
  target: z.optional(
    z.strictObject({
      replace: z.literal(true),
      ifNoneMatch: z.optional(z.literal('*')),
      ifMatch: z.optional(z.string().check(z.maxLength(256))),
    }),
  ),
});

export type Session = z.infer<typeof sessionSchema>;

/**
 * What replaces a session once its manifest is committed, until `expires`: a resume or status
 * by the upload id reports the file instead of `not_found`. It names no chunks (the manifest
 * protects them; once the file is removed they must be collectable).
 */
export const committedUploadSchema = z.strictObject({
  version: z.literal(1),
  uploadId: id,
  fileId: id,
  committed: z.iso.datetime(),
  expires: z.iso.datetime(),
});

export type CommittedUpload = z.infer<typeof committedUploadSchema>;

/** What an upload id names: an unfinished upload, or the marker of a committed one. */
export type UploadRecord = Session | CommittedUpload;

export function isCommittedUpload(r: UploadRecord): r is CommittedUpload {
  return 'committed' in r;
}
