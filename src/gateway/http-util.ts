import type { ServerResponse } from 'node:http';
import { BadRequestError, RangeNotSatisfiableError, toChunkstreamError } from '../errors.js';

/** JSON body with an exact Content-Length (no chunked encoding for small answers). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

/**
 * The one place errors become HTTP: status from the error's `code`, body
 * `{ "error": { "code", "message" } }`. Extra headers follow the status (416 → Content-Range,
 * 401 → WWW-Authenticate, 405 → Allow). Once the body started, the only honest signal left is
 * to cut the connection (the client sees a short body, never a silently truncated "success").
 */
export function sendError(res: ServerResponse, err: unknown, headers: Record<string, string> = {}): void {
  const e = toChunkstreamError(err);
  if (res.headersSent || res.destroyed) {
    res.destroy(); // no error argument: nothing to report to, and no 'error' event to handle
    return;
  }
  // 499 is nginx's "client closed request": only meaningful in logs. A transfer aborted because
  // the server is shutting down is reported as 503 to a client that is still listening.
  const status = e.code === 'aborted' ? 503 : e.status;
  const extra: Record<string, string> = { ...headers };
  if (e instanceof RangeNotSatisfiableError) extra['Content-Range'] = `bytes */${e.size}`;
  if (e.code === 'unauthorized') extra['WWW-Authenticate'] ??= 'Bearer realm="chunkstream"';
  if (e.code === 'busy') extra['Retry-After'] ??= '1'; // the budget frees up as transfers end
  // Internal errors keep their message: this is a storage service for trusted token holders,
  // and the message is what an operator needs; stack traces never leave the process.
  sendJson(res, status, { error: { code: e.code, message: e.message } }, extra);
}

/**
 * Parses a `Range` header against a size. Returns undefined for "serve the whole file": no
 * header, a non-`bytes` unit is an error, and several ranges are served as a plain 200 (we do
 * not produce multipart/byteranges; RFC 9110 allows ignoring Range). A malformed single range
 * (`bytes=x`, `bytes=5-2`) is a 400; a well-formed one outside the file a 416.
 */
export function parseRangeHeader(header: string | undefined, size: number): { start: number; end: number } | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) throw new BadRequestError('range', `unsupported Range ${JSON.stringify(header.slice(0, 80))} (expected bytes=START-END)`);
  const specs = m[1]!.split(',').map((s) => s.trim());
  const parsed = specs.map((spec) => {
    const r = /^(\d*)-(\d*)$/.exec(spec);
    if (!r || (r[1] === '' && r[2] === '')) throw new BadRequestError('range', `malformed range ${JSON.stringify(spec.slice(0, 80))}`);
    // Digits past 2^53 are still a well-formed range (RFC 9110 § 14.1.1): no file is that large,
    // so such a bound means "beyond the end": an end is clamped, a start is unsatisfiable (416),
    // a suffix covers the whole file. Capping keeps every comparison below exact.
    const bound = (digits: string) => (digits === '' ? undefined : Math.min(Number(digits), Number.MAX_SAFE_INTEGER));
    const a = bound(r[1]!);
    const b = bound(r[2]!);
    if (a !== undefined && b !== undefined && b < a) throw new BadRequestError('range', `range end ${b} before start ${a}`);
    return { a, b };
  });
  if (parsed.length > 1) return undefined;
  const { a, b } = parsed[0]!;
  if (a === undefined) {
    // Suffix range: the last b bytes (all of them if the file is shorter).
    if (b === 0 || size === 0) throw new RangeNotSatisfiableError(size, `suffix range of ${b} bytes on a file of ${size} bytes`);
    return { start: Math.max(0, size - b!), end: size - 1 };
  }
  if (a >= size) throw new RangeNotSatisfiableError(size, `range starts at ${a}, file has ${size} bytes`);
  return { start: a, end: Math.min(b ?? size - 1, size - 1) };
}

/** True when an `If-None-Match` list names `etag` (weak comparison, as RFC 9110 requires for it). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const strip = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => strip(t) === etag);
}

/**
 * `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 / 8187): old
 * clients get a safe ASCII fallback, modern ones the exact UTF-8 name. Names never contain
 * control characters or backslashes (the catalog refuses them), but may contain `"`. A name
 * with folders (`photos/a.jpg`) is offered as its last segment: RFC 6266 § 4.3 has recipients
 * drop path information anyway, and a client that did not would be led to write elsewhere.
 */
export function contentDisposition(name: string): string {
  name = name.slice(name.lastIndexOf('/') + 1) || name;
  // A lone UTF-16 surrogate (JSON "\ud800" over WebSocket) is a valid JS string but makes
  // encodeURIComponent throw "URI malformed": the file could never be downloaded over HTTP.
  name = name.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
