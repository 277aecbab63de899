import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestGuard } from '../guard.js';

/** Request headers a browser app may send (beyond the CORS-safelisted ones). */
const ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Range',
  'If-Match',
  'If-None-Match',
  'If-Modified-Since',
  'If-Unmodified-Since',
  'If-Range',
  'X-Content-SHA256',
  // tus (tus/handler.ts)
  'Tus-Resumable',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Defer-Length',
  'Upload-Metadata',
  'Upload-Checksum',
  'Upload-Concat',
  'X-HTTP-Method-Override',
  'X-Requested-With',
].join(', ');

/** Response headers its scripts may read (the safelisted ones need no listing, but Content-Length helps old browsers). */
const EXPOSE_HEADERS = [
  'ETag',
  'Content-Range',
  'Content-Disposition',
  'Content-Length',
  'Accept-Ranges',
  'Last-Modified',
  'Location',
  'Retry-After',
  'WWW-Authenticate',
  // tus (tus/handler.ts)
  'Tus-Resumable',
  'Tus-Version',
  'Tus-Extension',
  'Tus-Max-Size',
  'Tus-Checksum-Algorithm',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Defer-Length',
  'Upload-Metadata',
  'Upload-Expires',
  'Chunkstream-File-Id',
  'X-Request-Id',
].join(', ');

const ALLOW_METHODS = 'GET, HEAD, PUT, POST, DELETE, PATCH, OPTIONS';

/**
 * CORS (Fetch standard) for the origins of `--cors-origin`, and nothing without it. Sets the
 * headers every response to such an origin carries (errors too: a script must be able to read
 * `{ error: { code } }`), and answers a preflight (OPTIONS with Access-Control-Request-Method)
 * before authentication, since browsers never send credentials on a preflight. Returns true when
 * it answered the request. No Allow-Credentials: the API authenticates by bearer token, which
 * scripts send explicitly; cookies play no part.
 */
export function applyCors(guard: RequestGuard, req: IncomingMessage, res: ServerResponse): boolean {
  if (!guard.cors) return false;
  const allowed = guard.corsOrigin(req.headers.origin);
  if (allowed !== '*') res.setHeader('Vary', 'Origin');
  if (allowed === undefined) return false;
  res.setHeader('Access-Control-Allow-Origin', allowed);
  const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
  if (!preflight) {
    res.setHeader('Access-Control-Expose-Headers', EXPOSE_HEADERS);
    return false;
  }
  const headers: Record<string, string | number> = {
    'Access-Control-Allow-Methods': ALLOW_METHODS,
    'Access-Control-Allow-Headers': ALLOW_HEADERS,
    'Access-Control-Max-Age': 600,
    Vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    'Content-Length': 0,
  };
  // Chrome's Private Network Access: a public page calling a loopback server must be allowed to.
  if (req.headers['access-control-request-private-network'] === 'true') headers['Access-Control-Allow-Private-Network'] = 'true';
  res.writeHead(204, headers).end();
  return true;
}
