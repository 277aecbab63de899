// Names as keys (S3's rules): 1 to 1024 bytes of UTF-8, any character. The listing's query and
// its opaque cursor are validated here, so every front end (engine, HTTP, CLI, S3) refuses the
// same things with the same coded errors.
import * as z from '../internal/zod.js';
import { BadRequestError } from '../errors.js';
import { nameBytes } from '../storage/name-index.js';

export const MAX_NAME_BYTES = 1024;
export const MAX_PAGE = 1000;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const fatal = new TextDecoder('utf-8', { fatal: true });

/** A string that is valid UTF-8 when encoded (no lone surrogate, which would become U+FFFD). */
const wellFormed = (s: string) => !LONE_SURROGATE.test(s);

export const objectNameSchema = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.refine(wellFormed, 'must be valid UTF-8 (a lone surrogate is not)'),
  z.refine((n) => nameBytes(n).byteLength <= MAX_NAME_BYTES, `must be at most ${MAX_NAME_BYTES} bytes of UTF-8`),
);

export function checkObjectName(name: unknown, field = 'name'): string {
  const r = objectNameSchema.safeParse(name);
  if (!r.success) throw new BadRequestError(field, r.error.issues[0]?.message ?? 'invalid');
  return r.data;
}

/** A name received as bytes (a percent-decoded path): invalid UTF-8 is refused, never turned into U+FFFD. */
export function decodeObjectName(bytes: Uint8Array, field = 'name'): string {
  let text: string;
  try {
    text = fatal.decode(bytes);
  } catch {
    throw new BadRequestError(field, 'must be valid UTF-8');
  }
  return checkObjectName(text, field);
}

export interface ListQuery {
  /** Only names starting with this (default ''). */
  prefix?: string;
  /** Roll names up into folders at the first delimiter after the prefix (any string; usually '/'). */
  delimiter?: string;
  /** Files and folders together, 1 to 1000 (default 1000). */
  limit?: number;
  /** The `next` of the previous page, with the same prefix and delimiter. */
  cursor?: string;
}

const querySchema = z.strictObject({
  prefix: z.optional(
    z.string().check(
      z.refine(wellFormed, 'must be valid UTF-8'),
      z.refine((p) => nameBytes(p).byteLength <= MAX_NAME_BYTES, `must be at most ${MAX_NAME_BYTES} bytes`),
    ),
  ),
  delimiter: z.optional(
    z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(64), z.refine(wellFormed, 'must be valid UTF-8')),
  ),
  limit: z.optional(
    z.number().check(z.int('must be an integer'), z.gte(1, 'must be at least 1'), z.lte(MAX_PAGE, `must be at most ${MAX_PAGE}`)),
  ),
  cursor: z.optional(z.string().check(z.maxLength(4096))),
  signal: z.optional(z.unknown()),
});

export interface ResolvedQuery {
  prefix: string;
  delimiter?: string;
  limit: number;
  startAfter?: string;
}

/** Validates a listing query and opens its cursor; each bad field is a `bad_request` naming it. */
export function resolveListQuery(query: ListQuery = {}): ResolvedQuery {
  const r = querySchema.safeParse(query);
  if (!r.success) {
    const issue = r.error.issues[0];
    const unknown = issue?.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    throw new BadRequestError(
      unknown ?? String(issue?.path[0] ?? 'query'),
      unknown ? 'is not a listing option' : (issue?.message ?? 'invalid'),
    );
  }
  const { prefix = '', delimiter, limit = MAX_PAGE, cursor } = r.data;
  const out: ResolvedQuery = { prefix, limit, ...(delimiter !== undefined ? { delimiter } : {}) };
  if (cursor !== undefined) out.startAfter = openCursor(cursor, prefix, delimiter);
  return out;
}

/** Opaque to callers: the last name or folder of a page, bound to the query's prefix and delimiter. */
export function makeCursor(after: string, query: ResolvedQuery): string {
  return Buffer.from(JSON.stringify({ v: 1, a: after, p: query.prefix, d: query.delimiter ?? null })).toString('base64url');
}

function openCursor(cursor: string, prefix: string, delimiter: string | undefined): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = parsed as { v?: unknown; a?: unknown; p?: unknown; d?: unknown } | undefined;
  if (!c || c.v !== 1 || typeof c.a !== 'string' || typeof c.p !== 'string' || !wellFormed(c.a)) {
    throw new BadRequestError('cursor', 'is not a cursor this store gave out');
  }
  if (c.p !== prefix || c.d !== (delimiter ?? null)) throw new BadRequestError('cursor', 'was given out for another prefix or delimiter');
  return c.a;
}
