import type { IncomingMessage } from 'node:http';
import type { TransferMeter } from '../../engine/observer.js';

/** tus requests (under /v1/tus/, or any request that speaks tus) label their transfers `tus`. */
const protocolOf = (req: IncomingMessage, path: string) =>
  path.startsWith('/v1/tus') || req.headers['tus-resumable'] !== undefined ? 'tus' : 'http';

const meters = new WeakMap<IncomingMessage, TransferMeter>();

/**
 * The meter of one request (its protocol label and the file bytes its transfers move), made when
 * it arrives: the access log line and the transfer metrics read the same one.
 */
export function meterRequest(req: IncomingMessage, path: string): TransferMeter {
  const meter: TransferMeter = { protocol: protocolOf(req, path), bytes: 0 };
  meters.set(req, meter);
  return meter;
}

/** The meter of a request for the transfers it starts; none for a request that was never metered. */
export function requestMeter(req: IncomingMessage): TransferMeter | undefined {
  return meters.get(req);
}
