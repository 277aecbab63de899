/**
 * Every error chunkstream raises carries a fixed string `code` (stable, for programs) and an
 * HTTP-like `status` (so the gateway maps errors in one place). Messages name the field or
 * limit at fault.
 */
export type ErrorCode =
  | 'invalid_option'
  | 'bad_request'
  | 'not_found'
  | 'range_not_satisfiable'
  | 'integrity'
  | 'corrupt_manifest'
  /** A file names a chunk the store no longer holds (lost, or moved aside as corrupt): HTTP 500, upload the file again to heal it. */
  | 'missing_chunk'
  | 'aborted'
  | 'too_large'
  | 'unauthorized'
  | 'source_overflow'
  | 'conflict'
  | 'method_not_allowed'
  | 'storage'
  | 'internal'
  /** A client stalled (sent nothing) longer than the server's idle limit. */
  | 'timeout'
  /** The WebSocket connection dropped and the transfer could not be resumed (client SDK). */
  | 'connection_lost'
  /** The server's transfer budget (maxTransferBytes) is spent: retry later. */
  | 'busy'
  /** An If-Match / If-Unmodified-Since / If-None-Match condition did not hold (HTTP 412). */
  | 'precondition_failed'
  /** Refused whatever the credentials: a foreign Origin, an expired or forged signed link (HTTP 403). */
  | 'forbidden'
  /** The Host header names a server this one does not answer for (DNS rebinding guard, HTTP 421). */
  | 'misdirected'
  /** A segment's declared checksum (tus Upload-Checksum) did not match its bytes: nothing of it was kept (HTTP 460, tus). */
  | 'checksum_mismatch'
  /** An unfinished upload is past its expiry (HTTP 410): it can no longer be resumed. */
  | 'expired'
  /** A request body of a media type the route does not take (HTTP 415). */
  | 'unsupported_media_type'
  /** A request body in a transfer coding the server does not decode (`gzip, chunked`): HTTP 501, nothing stored. */
  | 'unsupported_transfer_coding'
  /** An optional peer dependency (pino, prom-client, the AWS SDK) is not installed: the message names the npm command. */
  | 'missing_dependency';

const STATUS: Record<ErrorCode, number> = {
  invalid_option: 400,
  bad_request: 400,
  not_found: 404,
  range_not_satisfiable: 416,
  integrity: 500,
  corrupt_manifest: 500,
  // 500, not 502/503/504: those say "transient, retry" to proxies and retrying clients, and
  // retrying cannot help until someone uploads the bytes again; not 404: the file exists.
  missing_chunk: 500,
  aborted: 499,
  too_large: 413,
  unauthorized: 401,
  source_overflow: 400,
  conflict: 409,
  method_not_allowed: 405,
  storage: 503,
  internal: 500,
  timeout: 408,
  connection_lost: 503,
  busy: 503,
  precondition_failed: 412,
  forbidden: 403,
  misdirected: 421,
  checksum_mismatch: 460,
  expired: 410,
  unsupported_media_type: 415,
  unsupported_transfer_coding: 501,
  missing_dependency: 500,
};

export class ChunkstreamError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = STATUS[code];
    this.name = new.target.name;
  }
}

/** An option passed to a factory is unknown or out of range; `option` names it. */
export class InvalidOptionError extends ChunkstreamError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('invalid_option', `[chunkstream] option ${option}: ${message}`);
  }
}

/** Input from a caller (id, name, range, message field) is malformed; `field` names it. */
export class BadRequestError extends ChunkstreamError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('bad_request', `${field}: ${message}`);
  }
}

export class NotFoundError extends ChunkstreamError {
  constructor(
    readonly what: string,
    message?: string,
  ) {
    super('not_found', message ?? `${what} not found`);
  }
}

export class RangeNotSatisfiableError extends ChunkstreamError {
  constructor(
    readonly size: number,
    message: string,
  ) {
    super('range_not_satisfiable', message);
  }
}

/**
 * Bytes did not verify: a stored or received chunk does not match its key (nothing of it was
 * delivered), or a whole file's size or SHA-256 is not what its manifest says (no chunk named).
 */
export class IntegrityError extends ChunkstreamError {
  constructor(
    readonly fileId: string | undefined,
    readonly index: number | undefined,
    readonly key: string | undefined,
    detail: string,
  ) {
    const what =
      index === undefined && key === undefined ? `file ${fileId ?? '?'}` : `chunk ${index ?? '?'} (${key ?? '?'}) of file ${fileId ?? '?'}`;
    super('integrity', `${what} failed verification: ${detail}`);
  }
}

/**
 * A file names a chunk the store does not hold (lost, or moved aside after it failed
 * verification). Said in the file's terms (id, name, chunk index, byte range), never the store's
 * key; the file is whole again once an upload stores those bytes again.
 */
export class MissingChunkError extends ChunkstreamError {
  constructor(
    readonly fileId: string,
    readonly index: number,
    readonly start: number,
    readonly end: number,
    name?: string,
  ) {
    const file = name === undefined ? `file ${fileId}` : `file ${fileId} (${JSON.stringify(name)})`;
    super('missing_chunk', `${file} is missing chunk ${index} (bytes ${start}-${end}): upload the file again to restore it`);
  }
}

/** A manifest read from storage failed validation; only that file is affected. */
export class CorruptManifestError extends ChunkstreamError {
  constructor(
    readonly fileId: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('corrupt_manifest', `manifest of file ${fileId} is corrupt: ${detail}`, options);
  }
}

export class AbortError extends ChunkstreamError {
  constructor(message = 'the operation was aborted', options?: { cause?: unknown }) {
    super('aborted', message, options);
  }
}

export class TooLargeError extends ChunkstreamError {
  constructor(
    readonly field: string,
    readonly limit: number,
    message?: string,
  ) {
    super('too_large', message ?? `${field} exceeds the limit of ${limit}`);
  }
}

/** An Observable source pushed more than it may buffer (Observables cannot be paused). */
export class SourceOverflowError extends ChunkstreamError {
  constructor(readonly limit: number) {
    super(
      'source_overflow',
      `the Observable source pushed more than sourceBufferBytes (${limit}) ahead of storage; ` +
        'pass an AsyncIterable, a Readable or a pull function to get backpressure',
    );
  }
}

/** The bytes of a segment do not hash to the checksum its sender declared; none of them were appended. */
export class ChecksumMismatchError extends ChunkstreamError {
  constructor(
    readonly algorithm: string,
    message: string,
  ) {
    super('checksum_mismatch', message);
  }
}

export class StorageError extends ChunkstreamError {
  constructor(
    readonly backend: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('storage', `[${backend}] ${message}`, options);
  }
}

/** A write lost a race: an upload is at another offset, a file changed under a conditional request (HTTP 409). */
export class ConflictError extends ChunkstreamError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** A client sent nothing for longer than the server waits (a stalled request body: HTTP 408). */
export class TimeoutError extends ChunkstreamError {
  constructor(message: string) {
    super('timeout', message);
  }
}

/** The route exists, the method does not (HTTP 405); the response names the allowed ones. */
export class MethodNotAllowedError extends ChunkstreamError {
  constructor(message: string) {
    super('method_not_allowed', message);
  }
}

/** An If-Match / If-Unmodified-Since / If-None-Match or Tus-Resumable condition did not hold (HTTP 412). */
export class PreconditionFailedError extends ChunkstreamError {
  constructor(message: string) {
    super('precondition_failed', message);
  }
}

/** Refused whatever the credentials: a foreign Origin, an expired or forged signed link (HTTP 403). */
export class ForbiddenError extends ChunkstreamError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

/** The Host header names a server this one does not answer for (DNS rebinding guard, HTTP 421). */
export class MisdirectedError extends ChunkstreamError {
  constructor(message: string) {
    super('misdirected', message);
  }
}

/** A request body of a media type the route does not take (HTTP 415). */
export class UnsupportedMediaTypeError extends ChunkstreamError {
  constructor(message: string) {
    super('unsupported_media_type', message);
  }
}

/** A Transfer-Encoding other than plain `chunked` (HTTP 501, RFC 9112 § 6.1): the body is not read. */
export class UnsupportedTransferCodingError extends ChunkstreamError {
  constructor(message: string) {
    super('unsupported_transfer_coding', message);
  }
}

/** An unfinished upload is past its expiry (HTTP 410): it can no longer be resumed. */
export class ExpiredError extends ChunkstreamError {
  constructor(message: string) {
    super('expired', message);
  }
}

/** An optional peer dependency is not installed: `packages` are what to `npm install` for `feature`. */
export class MissingDependencyError extends ChunkstreamError {
  readonly packages: readonly string[];
  constructor(feature: string, packages: readonly string[], options?: { cause?: unknown }) {
    super(
      'missing_dependency',
      `${feature} needs ${packages.join(' and ')}, which ${packages.length === 1 ? 'is' : 'are'} not installed: npm install ${packages.join(' ')}`,
      options,
    );
    this.packages = packages;
  }
}

/** A bug or an environment failure inside chunkstream (a hash thread died, an invariant broke). */
export class InternalError extends ChunkstreamError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('internal', message, options);
  }
}

export function isChunkstreamError(e: unknown): e is ChunkstreamError {
  return e instanceof ChunkstreamError;
}

/** Maps any thrown value to a ChunkstreamError, keeping the original as `cause`. */
export function toChunkstreamError(e: unknown): ChunkstreamError {
  if (e instanceof ChunkstreamError) return e;
  if (e instanceof Error && e.name === 'AbortError') return new AbortError(e.message, { cause: e });
  const message = e instanceof Error ? e.message : String(e);
  return new InternalError(message, { cause: e });
}
