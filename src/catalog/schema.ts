import * as z from '../internal/zod.js';
import { BadRequestError } from '../errors.js';

/** File and upload ids: lowercase base-36, so they can never name a path outside the store. */
export const ID = /^[0-9a-z]{16,64}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export const chunkRefSchema = z.strictObject({ key: z.string().check(z.regex(SHA256)), size: z.number().check(z.int(), z.positive()) });

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Names are metadata, never paths in the store. `/` separates folders (`photos/2024/a.jpg`,
 * as `put -r` records them, and `get -O` recreates them), so every segment must be a plain
 * name: none empty (no leading, trailing or doubled `/`), none `.` or `..`. No backslash, no control
 * characters.
 */
export const nameSchema = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.maxLength(255, 'must be at most 255 characters'),
  z.refine((n) => !/[\u0000-\u001f\u007f-\u009f\\]/.test(n), 'must not contain "\\" or control characters'),
  z.refine(
    (n) => n.split('/').every((s) => s !== '' && s !== '.' && s !== '..'),
    'must be names separated by "/": no leading, trailing or double "/", no "." or ".." segments',
  ),
  // Names are printed by `ls` and sent in headers: no terminal escapes, no spoofing by bidi overrides.
  z.refine(
    (n) => !LONE_SURROGATE.test(n) && !/[\u202a-\u202e\u2066-\u2069]/.test(n),
    'must be well-formed Unicode without bidirectional overrides',
  ),
);

const id = z.string().check(z.regex(ID));
const count = z.number().check(z.int(), z.nonnegative());
const positive = z.number().check(z.int(), z.positive());

/**
 * A media type as a client declared it (a tus `filetype`): `type/subtype` with optional
 * parameters, printable ASCII only (it is sent back in a Content-Type header).
 */
export const mediaTypeSchema = z
  .string()
  .check(
    z.maxLength(255),
    z.regex(
      /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*(\s*;\s*[\w!#$&^.+-]+=("[\x20\x21\x23-\x5b\x5d-\x7e]*"|[\w!#$&^.+-]+))*$/,
      'must be a media type such as image/png',
    ),
  );

export const manifestSchema = z
  .strictObject({
    version: z.literal(1),
    id,
    name: nameSchema,
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
  name: nameSchema,
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
  metadata: z.optional(z.string().check(z.maxLength(4096))),
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

export function checkId(id: unknown, field = 'id'): string {
  if (typeof id !== 'string' || !ID.test(id)) {
    throw new BadRequestError(field, `must be 16 to 64 characters of [0-9a-z] (got ${JSON.stringify(id)?.slice(0, 80)})`);
  }
  return id;
}

export function checkName(name: unknown, field = 'name'): string {
  const r = nameSchema.safeParse(name);
  if (!r.success) throw new BadRequestError(field, r.error.issues[0]?.message ?? 'invalid');
  return r.data;
}

/** Describes the first zod issue as `path: message`, for error messages that name the field. */
export function describeIssue(error: { issues: readonly z.core.$ZodIssue[] }): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  return `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`;
}
