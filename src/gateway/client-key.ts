import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { bearerToken } from './auth.js';

/** `::ffff:10.0.0.1` is `10.0.0.1` (a dual-stack socket's IPv4 peer). */
const plain = (a: string) => (a.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a).toLowerCase();

/** Who a request is, for the per-client share of the transfer budget. */
export type ClientKeyer = (req: IncomingMessage, token?: string) => string;

/**
 * Its bearer token (hashed: a key must not carry the secret into logs or heap dumps), else its
 * address. A signed link or the first-message auth of a WebSocket counts by address.
 *
 * Behind a proxy every client has the proxy's address, so one share would cap them all
 * together: for a peer listed in `trustedProxies`, the address is the nearest one in
 * `X-Forwarded-For` that is not itself a trusted proxy (the header is read right to left, as
 * each proxy appends; what a client wrote itself on the left is never trusted).
 */
export function clientKeyer(trustedProxies: readonly string[] = []): ClientKeyer {
  const trusted = new Set(trustedProxies.map(plain));
  return (req, token = bearerToken(req.headers.authorization)) => {
    if (token !== undefined) return `token:${createHash('sha256').update(token).digest('hex').slice(0, 24)}`;
    let addr = plain(req.socket.remoteAddress ?? '-');
    if (trusted.has(addr)) {
      const hops = String(req.headers['x-forwarded-for'] ?? '')
        .split(',')
        .map((h) => plain(h.trim()))
        .filter((h) => h !== '');
      while (hops.length > 0 && trusted.has(addr)) addr = hops.pop()!;
    }
    return `addr:${addr}`;
  };
}

/** The default: no trusted proxies. */
export const clientKey: ClientKeyer = clientKeyer();
