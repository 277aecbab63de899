import transliterate from '@sindresorhus/transliterate';
import { create as createDisposition } from 'content-disposition';
import { lookup } from 'mime-types';
import type { Manifest } from '../../catalog/schema.js';
import type { Validators } from './conditional.js';

/** A year: the longest max-age caches are told to keep (RFC 9111 advises no more). */
const YEAR_S = 31_536_000;

/**
 * Headers that describe a stored file, the same on 200, 206, 304 and HEAD. Pure.
 *
 * - `Content-Type` from the name's extension (the `mime-types` table, jshttp's, used by Express
 *   and `send`), else the type declared at upload (a tus `filetype`), else `application/octet-stream`. No charset: the bytes are the user's and we do
 *   not know their encoding.
 * - `X-Content-Type-Options: nosniff`, `Content-Disposition: attachment` and a sandboxing CSP:
 *   a user's file (an .html, an .svg) must never run as a page on the server's origin, where it
 *   could call the API with the user's ambient access (a loopback server without tokens).
 * - `Cache-Control`: an id names the same bytes forever (content-addressed, immutable, ids are
 *   never reused), so caches may keep it for a year without revalidating. `private`: the
 *   response was authorized for one client (a token, or a link that expires); a shared cache
 *   must not hand it to others. A signed link's copy is kept no longer than the link is valid.
 */
export function fileHeaders(
  m: Pick<Manifest, 'name' | 'sha256' | 'created' | 'type'>,
  o: { maxAgeS?: number } = {},
): Record<string, string> {
  const maxAge = Math.max(0, Math.min(YEAR_S, Math.floor(o.maxAgeS ?? YEAR_S)));
  const v = validators(m);
  return {
    ETag: v.etag,
    'Last-Modified': v.lastModified,
    'Accept-Ranges': 'bytes',
    'Cache-Control': `private, max-age=${maxAge}, immutable`,
    'Content-Type': contentType(m.name, m.type),
    'Content-Disposition': contentDisposition(m.name),
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
  };
}

export function validators(m: Pick<Manifest, 'sha256' | 'created'>): Validators {
  return { etag: `"${m.sha256}"`, lastModified: new Date(m.created).toUTCString() };
}

export function contentType(name: string, declared?: string): string {
  return lookup(baseName(name)) || declared || 'application/octet-stream';
}

/**
 * `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 / 8187), built by
 * `content-disposition` (jshttp). Its own ASCII fallback turns every non-ASCII character into
 * `?`; ours transliterates (`résumé 2.pdf` → `resume 2.pdf`, `Größe` → `Groesse`) so the many
 * clients that only read `filename` (curl -OJ, wget --content-disposition) save a readable name.
 * The fallback also loses `"` and `\` (curl does not unescape quoted-pairs), `%` (some clients
 * percent-decode it) and what has no transliteration (日本 → `__`).
 *
 * Names may use `/` as a folder separator: the download is named after the last segment, which
 * is what browsers, curl -OJ and wget would keep anyway (they strip directories for safety).
 */
export function contentDisposition(name: string): string {
  // A lone UTF-16 surrogate (a manifest written elsewhere) makes encodeURIComponent throw
  // "URI malformed": the file could never be downloaded over HTTP.
  const file = baseName(name).replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  const fallback = transliterate(file).replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return createDisposition(file, { fallback });
}

/** The last `/`-separated segment that is not empty (a name is never only slashes). */
function baseName(name: string): string {
  const segments = name.split('/').filter((s) => s !== '');
  return segments[segments.length - 1] ?? name;
}
