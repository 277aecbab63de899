import type { IncomingMessage } from 'node:http';
import type { TransferMeter } from '../../engine/observer.js';

/** tus requests (under /v1/tus/, or any request that speaks tus) label their transfers `tus`. */
const protocolOf = (req: IncomingMessage, path: string) =>
  path.startsWith('/v1/tus') || req.headers['tus-resumable'] !== undefined ? 'tus' : 'http';

/**
 * The meter of one request (its protocol label and the file bytes its transfers move), made when
 * it arrives: the access log line and the transfer metrics read the same one.
 */
export function meterRequest(req: IncomingMessage, path: string): TransferMeter {
  return { protocol: protocolOf(req, path), bytes: 0 };
}

/** What the access log knows of a request and hands to the handler with it. */
export interface RequestRecord {
  /** The request id (sent back as `X-Request-Id`). */
  readonly id: string;
  /** For the transfers it starts. */
  readonly meter: TransferMeter;
}
