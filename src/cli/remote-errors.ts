import { isChunkstreamError } from '../errors.js';
import { ConnectionLostError } from '../protocol/errors.js';

const WHY: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is the server running, on this host and port?)',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved (DNS)',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPROTO: 'TLS handshake failed (an https:// URL for a plain http server?)',
};

/** A failed request to the server, said as what happened: `cannot reach http://…: connection refused (…)`. */
export function connectionError(base: URL, err: unknown): unknown {
  if (isChunkstreamError(err) || (err as Error)?.name === 'AbortError') return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  const why = (code && WHY[code]) ?? (err as Error)?.message ?? String(err);
  return new ConnectionLostError(`cannot reach ${base.origin}: ${why}`, { cause: err });
}
