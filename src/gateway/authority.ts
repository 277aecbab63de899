import type { IncomingMessage } from 'node:http';
import { BadRequestError, type ChunkstreamError } from '../errors.js';

/** What the Host and Origin checks judge a request by. */
export interface RequestAuthority {
  /** The authority the request names: the absolute-form target's, else its Host header (undefined: none, HTTP/1.0). */
  host: string | undefined;
  /** The scheme the client reached us by: `https` only when a proxy says so (X-Forwarded-Proto), else `http`. */
  scheme: 'http' | 'https';
  /** The page's origin for a browser request (WebSocket protocol version 8 names it Sec-WebSocket-Origin). */
  origin: string | undefined;
}

const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/**
 * RFC 9112 § 3.2: a request with more than one Host field line is a 400, and so is an HTTP/1.1
 * one without Host (Node refuses plain requests itself, but lets an upgrade through; RFC 6455
 * requires Host there too). § 3.2.2: an absolute-form target (`GET http://evil.example/…`, what
 * a client sends to a proxy) replaces Host, so the rebinding guard must judge that authority,
 * not the Host header next to it.
 */
export function requestAuthority(req: IncomingMessage): RequestAuthority | ChunkstreamError {
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts++;
  if (hosts > 1) return new BadRequestError('host', `${hosts} Host headers: a request names one server (RFC 9112 § 3.2)`);
  const upgrade = req.headers.upgrade !== undefined;
  if (hosts === 0 && (upgrade || req.httpVersion !== '1.0')) {
    return new BadRequestError('host', 'required (RFC 9112 § 3.2; RFC 6455 for a WebSocket upgrade)');
  }
  let host = req.headers.host;
  const target = req.url ?? '/';
  if (ABSOLUTE.test(target)) {
    let u: URL;
    try {
      u = new URL(target);
    } catch {
      return new BadRequestError('url', 'malformed absolute-form request target');
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.host === '') {
      return new BadRequestError('url', `absolute-form target must be http(s)://HOST/PATH (got ${JSON.stringify(target.slice(0, 80))})`);
    }
    host = u.host;
  }
  const origin = req.headers.origin ?? (req.headers['sec-websocket-origin'] as string | undefined);
  return { host, scheme: forwardedScheme(req.headers['x-forwarded-proto']), origin };
}

/**
 * The listener speaks plain HTTP; a TLS-terminating proxy in front says `X-Forwarded-Proto:
 * https`. A browser cannot add that header to a cross-site form post or WebSocket (a fetch
 * with it needs a preflight, which the Origin check refuses), so trusting it does not let a
 * foreign page pass as same-origin.
 */
function forwardedScheme(header: string | string[] | undefined): 'http' | 'https' {
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https' ? 'https' : 'http';
}
