import { ChunkstreamError, type ErrorCode } from '../errors.js';

/**
 * WebSocket close codes the gateway uses (docs/protocol.md § Close codes). 1xxx are the
 * standard ones (ws sends 1002, 1007 and 1009 by itself); 44xx mirror HTTP statuses.
 */
export const CloseCode = {
  NORMAL: 1000,
  /** The gateway is shutting down. */
  GOING_AWAY: 1001,
  /** Invalid WebSocket framing (sent by ws). */
  PROTOCOL_ERROR: 1002,
  /** A text frame that is not valid UTF-8 (sent by ws). */
  INVALID_DATA: 1007,
  /** No close frame: the connection dropped, or never opened (only observed, never sent). */
  ABNORMAL: 1006,
  /** A frame above maxFrameBytes (sent by ws before buffering it). */
  TOO_BIG: 1009,
  /** An unexpected server fault. */
  INTERNAL: 1011,
  /** No valid token: the first message was not a valid `auth` message. */
  UNAUTHORIZED: 4401,
  /** No `auth` message within the auth deadline. */
  AUTH_TIMEOUT: 4408,
} as const;

/** Error codes that travel in `error` messages: the engine's codes (wire codes are a subset). */
export const WIRE_ERROR_CODES = [
  'bad_request',
  'not_found',
  'too_large',
  'unauthorized',
  'range_not_satisfiable',
  'integrity',
  'corrupt_manifest',
  'missing_chunk',
  'conflict',
  'aborted',
  'storage',
  'busy',
  'timeout',
  'expired',
  'internal',
] as const satisfies readonly ErrorCode[];
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

/** Engine codes with no wire equivalent are folded into the nearest one. */
export function toWireCode(code: ErrorCode): WireErrorCode {
  if ((WIRE_ERROR_CODES as readonly string[]).includes(code)) return code as WireErrorCode;
  if (code === 'invalid_option' || code === 'source_overflow') return 'bad_request';
  return 'internal';
}

/**
 * A protocol-level error: a fixed string `code` (what the peer sees in an `error` message)
 * and the WebSocket close code used when the error ends the whole connection.
 */
export class ProtocolError extends ChunkstreamError {
  constructor(
    code: ErrorCode,
    readonly closeCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** A control message or frame header is malformed; `field` names the culprit. */
export class MalformedMessageError extends ProtocolError {
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super('bad_request', CloseCode.INVALID_DATA, `${field}: ${detail}`);
  }
}

/** A new request reuses a stream id that is still active. */
export class StreamInUseError extends ProtocolError {
  constructor(readonly stream: number) {
    super('conflict', CloseCode.INVALID_DATA, `stream: stream ${stream} is already in use`);
  }
}

/** A data frame exceeds the credit granted for its stream (or arrives before any credit). */
export class CreditExceededError extends ProtocolError {
  constructor(
    readonly stream: number,
    bytes: number,
    credit: number,
  ) {
    super(
      'too_large',
      CloseCode.INVALID_DATA,
      `payload: data frame of ${bytes} bytes exceeds the ${credit} bytes of credit on stream ${stream}`,
    );
  }
}

/** Too many streams open on one connection at once. */
export class TooManyStreamsError extends ProtocolError {
  constructor(readonly limit: number) {
    super('too_large', CloseCode.INVALID_DATA, `stream: more than ${limit} concurrent streams on one connection`);
  }
}

export class UnauthorizedError extends ProtocolError {
  constructor(message = 'a valid token is required (Authorization: Bearer header or a first auth message)') {
    super('unauthorized', CloseCode.UNAUTHORIZED, message);
  }
}

export class AuthTimeoutError extends ProtocolError {
  constructor(ms: number) {
    super('unauthorized', CloseCode.AUTH_TIMEOUT, `no auth message within ${ms} ms`);
  }
}

/** Server side: the upload was resumed on another stream (or connection), which took it over. */
export class UploadTakenOverError extends ProtocolError {
  constructor(readonly uploadId: string) {
    super('conflict', CloseCode.NORMAL, `upload ${uploadId} was resumed on another stream`);
  }
}

/** Client side: the connection dropped and this transfer could not be resumed. */
export class ConnectionLostError extends ProtocolError {
  constructor(message = 'the WebSocket connection was lost', options?: { cause?: unknown }) {
    super('connection_lost', CloseCode.ABNORMAL, message, options);
  }
}

/**
 * Client side: the WebSocket upgrade got an HTTP answer no retry will change: 404 (a wrong
 * path: not_found) or another 4xx (not a chunkstream server: internal).
 */
export class UpgradeRefusedError extends ProtocolError {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(httpStatus === 404 ? 'not_found' : 'internal', CloseCode.ABNORMAL, message);
  }
}

/**
 * Client side: an error the server sent (an `error` message, or an HTTP error body), re-thrown
 * with the server's code: the one error class whose code is not fixed, since it is the server's.
 */
export class RemoteError extends ProtocolError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly stream: number | null,
  ) {
    super(code, CloseCode.NORMAL, message);
  }
}

/** Client side: the connection was closed by the server with a close code and reason. */
export function closeError(code: number, reason: string): ProtocolError {
  if (code === CloseCode.UNAUTHORIZED || code === CloseCode.AUTH_TIMEOUT) return new UnauthorizedError(reason || 'unauthorized');
  return new ConnectionLostError(`the WebSocket connection closed (code ${code}${reason ? `: ${reason}` : ''})`);
}
