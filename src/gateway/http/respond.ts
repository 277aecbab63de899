import type { ServerResponse } from 'node:http';
import { publicMessage } from '../public-error.js';
import { RangeNotSatisfiableError, toChunkstreamError, type ChunkstreamError } from '../../errors.js';

/** The error each failed response was answered (or cut) with: the access log's `code`. */
export const responseErrors = new WeakMap<ServerResponse, ChunkstreamError>();

/** JSON body with an exact Content-Length (no chunked encoding for small answers), ending in a newline (curl's prompt lands on its own line). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  // Node knows no reason phrase for tus's 460 and would send "unknown", which clients and proxies log.
  if (status === 460) res.statusMessage = 'Checksum Mismatch';
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
  responseErrors.set(res, e);
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
  // Messages go out without store keys or server paths (publicMessage); the access log keeps
  // the whole message for the operator, and stack traces never leave the process.
  sendJson(res, status, { error: { code: e.code, message: publicMessage(e) } }, extra);
}
