// The ids, names and media types that every side validates (the engine, the gateway, the
// protocol messages the browser SDK parses): kept apart from the stored records' schemas, so a
// module that only checks a name or an id does not load the manifest and session schemas.
import * as z from '../internal/zod.js';
import { BadRequestError } from '../errors.js';

/** File and upload ids: lowercase base-36, so they can never name a path outside the store. */
export const ID = /^[0-9a-z]{16,64}$/;

/** An upload's opaque client metadata (a tus Upload-Metadata header), in characters. */
export const MAX_METADATA_CHARS = 4096;

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
  // eslint-disable-next-line no-control-regex -- control characters are what this refuses
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
