import type { IncomingHttpHeaders } from 'node:http';
import fresh from 'fresh';

/** A file's validators as sent: `ETag` (strong, the SHA-256 quoted) and `Last-Modified` (HTTP date). */
export interface Validators {
  etag: string;
  lastModified: string;
}

/** What the preconditions decide: go on, answer 304, or answer 412. */
export type Precondition = 'proceed' | 'not_modified' | 'failed';

/**
 * RFC 9110 § 13.2.2, in its order, for a representation that exists (a missing file is a 404
 * and its preconditions are ignored, § 13.2.1):
 *   1. If-Match (strong comparison, `*` matches)         false → 412
 *   2. else If-Unmodified-Since (Last-Modified later)    false → 412
 *   3. If-None-Match (weak comparison)                   true  → 304 on GET/HEAD, 412 otherwise
 *   4. else If-Modified-Since, GET/HEAD only             not modified → 304
 * Steps 3 and 4 for GET/HEAD are `fresh` (jshttp, what Express and `send` use): its token
 * parsing and weak comparison are the ones browsers and caches are tested against. Like
 * Express it treats a request's `Cache-Control: no-cache` as "send it again" (nginx answers
 * 304 anyway); both are allowed, the client asked for a fresh copy.
 * Dates that do not parse are ignored, as RFC 9110 requires.
 */
export function evaluatePreconditions(method: string, headers: IncomingHttpHeaders, v: Validators): Precondition {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!listMatches(ifMatch, v.etag, 'strong')) return 'failed';
  } else {
    const since = httpDate(headers['if-unmodified-since']);
    if (since !== undefined && seconds(v.lastModified) > since) return 'failed';
  }
  const read = method === 'GET' || method === 'HEAD';
  if (read) return fresh(headers, { etag: v.etag, 'last-modified': v.lastModified }) ? 'not_modified' : 'proceed';
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined && listMatches(ifNoneMatch, v.etag, 'weak')) return 'failed';
  return 'proceed';
}

/**
 * If-Range (RFC 9110 § 13.1.5): the Range applies only if the client's copy is this one. An
 * entity-tag must match strongly (a weak one never does); a date must equal Last-Modified
 * exactly. Files are immutable, so their Last-Modified is a strong validator. Anything else
 * (unparsable) means "send the whole file".
 */
export function ifRangeHolds(headers: IncomingHttpHeaders, v: Validators): boolean {
  const raw = headers['if-range'];
  if (raw === undefined) return true;
  const value = Array.isArray(raw) ? raw.join(', ') : raw;
  const trimmed = value.trim();
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) return trimmed === v.etag;
  const date = httpDate(trimmed);
  return date !== undefined && date === seconds(v.lastModified);
}

/** Entity-tags of an If-Match / If-None-Match list (`*` is returned as itself). Commas may sit inside quotes. */
export function parseEntityTags(header: string): Array<{ weak: boolean; tag: string } | '*'> {
  if (header.trim() === '*') return ['*'];
  const out: Array<{ weak: boolean; tag: string }> = [];
  const re = /\s*(W\/)?("[^"]*")\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < header.length && (m = re.exec(header)) !== null) {
    out.push({ weak: m[1] !== undefined, tag: m[2]! });
    at = re.lastIndex;
    if (m[0].length === 0) break;
  }
  return out;
}

/** True when an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 requires for it). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  return header !== undefined && listMatches(header, etag, 'weak');
}

function listMatches(header: string, etag: string, comparison: 'strong' | 'weak'): boolean {
  return parseEntityTags(header).some((t) => t === '*' || (t.tag === etag && (comparison === 'weak' || !t.weak)));
}

/** An HTTP date in whole seconds since the epoch, or undefined if it does not parse. */
export function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

function seconds(date: string): number {
  return Math.floor(Date.parse(date) / 1000);
}
