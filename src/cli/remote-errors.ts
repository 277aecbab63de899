import { isChunkstreamError } from '../errors.js';
import { NETWORK_ERRNO } from '../client/dial-errors.js';
import { ConnectionLostError } from '../protocol/errors.js';

const WHY: Readonly<Record<string, string>> = {
  ...NETWORK_ERRNO,
  EPROTO: 'TLS handshake failed (an https:// URL for a plain http server?)',
};

/** A failed request to the server, said as what happened: `cannot reach http://…: connection refused (…)`. */
export function connectionError(base: URL, err: unknown): unknown {
  if (isChunkstreamError(err) || (err as Error)?.name === 'AbortError') return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const why = (code && WHY[code]) ?? (err as Error)?.message ?? String(err);
  return new ConnectionLostError(`cannot reach ${base.origin}: ${why}`, { cause: err });
}
