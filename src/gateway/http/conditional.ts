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
 * Dates that are not HTTP-dates (`2099`, `1`) are ignored, as RFC 9110 requires.
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
  if (read) {
    // `fresh` reads If-Modified-Since with Date.parse, which takes `2099` or `1` as a date.
    const ims = headers['if-modified-since'];
    const checked = ims !== undefined && httpDate(ims) === undefined ? { ...headers, 'if-modified-since': undefined } : headers;
    return fresh(checked, { etag: v.etag, 'last-modified': v.lastModified }) ? 'not_modified' : 'proceed';
  }
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

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const M = '([A-Za-z]{3})';
const T = '(\\d\\d):(\\d\\d):(\\d\\d)';
/** IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`. */
const IMF_FIXDATE = new RegExp(`^[A-Za-z]{3}, (\\d\\d) ${M} (\\d{4}) ${T} GMT$`);
/** Obsolete RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`. */
const RFC850_DATE = new RegExp(`^[A-Za-z]{6,9}, (\\d\\d)-${M}-(\\d\\d) ${T} GMT$`);
/** Obsolete asctime `Sun Nov  6 08:49:37 1994`. */
const ASCTIME_DATE = new RegExp(`^[A-Za-z]{3} ${M} ( \\d|\\d\\d) ${T} (\\d{4})$`);

/**
 * An HTTP-date (RFC 9110 § 5.6.7: IMF-fixdate, or the obsolete RFC 850 and asctime forms) in
 * whole seconds since the epoch, or undefined if the value is not one. Not Date.parse: it
 * takes `2099`, `1` or ISO dates, and RFC 9110 § 13.1.3/13.1.4 say a value that is not an
 * HTTP-date is ignored (the condition is not evaluated).
 */
export function httpDate(value: string | string[] | undefined): number | undefined {
  if (value === undefined || Array.isArray(value)) return undefined; // several values: not one date
  const v = value.trim();
  let parts: [day: string, month: string, year: number, h: string, m: string, s: string] | undefined;
  let r: RegExpExecArray | null;
  if ((r = IMF_FIXDATE.exec(v))) parts = [r[1]!, r[2]!, Number(r[3]), r[4]!, r[5]!, r[6]!];
  else if ((r = RFC850_DATE.exec(v))) {
    // Two-digit years: the most recent past year ending in them, unless over 50 years ahead (§ 5.6.7).
    const yy = Number(r[3]);
    const now = new Date().getUTCFullYear();
    let year = Math.floor(now / 100) * 100 + yy;
    if (year > now + 50) year -= 100;
    parts = [r[1]!, r[2]!, year, r[4]!, r[5]!, r[6]!];
  } else if ((r = ASCTIME_DATE.exec(v))) parts = [r[2]!.trim(), r[1]!, Number(r[6]), r[3]!, r[4]!, r[5]!];
  if (!parts) return undefined;
  const [day, month, year, h, m, s] = parts;
  const mon = MONTHS.indexOf(month.toLowerCase());
  const [d, hh, mm, ss] = [Number(day), Number(h), Number(m), Number(s)];
  if (mon < 0 || hh > 23 || mm > 59 || ss > 60) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, mon, d); // not Date.UTC: it maps years 0–99 to 1900–1999
  date.setUTCHours(hh, mm, Math.min(ss, 59)); // a leap second counts as :59
  if (date.getUTCDate() !== d) return undefined; // 31 Feb
  return Math.floor(date.getTime() / 1000);
}

function seconds(date: string): number {
  return Math.floor(Date.parse(date) / 1000);
}
