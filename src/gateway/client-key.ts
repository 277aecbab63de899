import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { bearerToken } from './auth.js';

/**
 * Who a request is, for the per-client share of the transfer budget: its bearer token (hashed: a
 * key must not carry the secret into logs or heap dumps), else its peer address. A signed link
 * or the first-message auth of a WebSocket counts by address.
 */
export function clientKey(req: IncomingMessage, token = bearerToken(req.headers.authorization)): string {
  if (token !== undefined) return `token:${createHash('sha256').update(token).digest('hex').slice(0, 24)}`;
  return `addr:${req.socket.remoteAddress ?? '-'}`;
}
