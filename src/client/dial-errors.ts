import {
  CloseCode,
  ConnectionLostError,
  UnauthorizedError,
  UpgradeRefusedError,
  closeError,
  type ProtocolError,
} from '../protocol/errors.js';

/** The message of a WebSocket error event, where the implementation gives one (`ws` does). */
export function errorDetail(ev: unknown): string | undefined {
  const e = ev as { message?: unknown; error?: { message?: unknown } } | null;
  const m = e?.message ?? e?.error?.message;
  return typeof m === 'string' && m !== '' ? m : undefined;
}

/** Why a connection failed, by errno, in words a user can act on (the CLI's HTTP requests say it the same way). */
export const NETWORK_ERRNO: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (is the server running, on this host and port?)',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved (DNS)',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/**
 * Why a connection attempt failed, in words a user can act on: nothing listening, a wrong
 * path (404 to the upgrade), a token missing or refused. Only failures worth another try
 * (refused, unreachable, 5xx) are ConnectionLostErrors, which the link retries.
 */
export function dialError(url: string, token: string, code: number, reason: string, detail: string | undefined): ProtocolError {
  if (code === CloseCode.UNAUTHORIZED || code === CloseCode.AUTH_TIMEOUT) {
    const said = reason ? ` (${reason})` : '';
    return new UnauthorizedError(
      token === ''
        ? `${url}: the server requires a token and none was given: connect(url, { token })${said}`
        : `${url}: the server refused the token${said}`,
    );
  }
  const status = /Unexpected server response: (\d{3})/.exec(detail ?? '')?.[1];
  if (status === '404')
    return new UpgradeRefusedError(
      404,
      `${url}: the server answered 404 to the WebSocket upgrade: wrong path? (chunkstream serves /v1/ws)`,
    );
  if (status === '401' || status === '403')
    return new UnauthorizedError(`${url}: the server answered ${status} to the WebSocket upgrade: the token was refused`);
  if (status !== undefined && !status.startsWith('5'))
    return new UpgradeRefusedError(
      Number(status),
      `${url}: the server answered ${status} to the WebSocket upgrade: not a chunkstream server?`,
    );
  const errno = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)\b/.exec(detail ?? '')?.[1];
  if (errno) return new ConnectionLostError(`cannot connect to ${url}: ${NETWORK_ERRNO[errno]}`);
  if (status) return new ConnectionLostError(`${url}: the server answered ${status} to the WebSocket upgrade`);
  const lost = closeError(code, reason);
  return detail && lost instanceof ConnectionLostError ? new ConnectionLostError(`cannot connect to ${url}: ${detail}`) : lost;
}
