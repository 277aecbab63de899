import type { Readable } from 'node:stream';
import { AbortError, NotFoundError, StorageError, isChunkstreamError, type ChunkstreamError } from '../errors.js';
import { abortError } from '../internal/abort.js';

/** The fields of an SDK (smithy) service or network error that decide how we map it. */
interface SdkErrorLike {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $fault?: string;
}

export function statusOf(err: unknown): number | undefined {
  return (err as SdkErrorLike | null)?.$metadata?.httpStatusCode;
}

export function isMissing(err: unknown): boolean {
  const e = err as SdkErrorLike | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || statusOf(err) === 404;
}

export function isPreconditionFailed(err: unknown): boolean {
  return (err as SdkErrorLike | null)?.name === 'PreconditionFailed' || statusOf(err) === 412;
}

/** AWS answers 409 when another conditional write to the same key is in flight: try again. */
export function isConditionalConflict(err: unknown): boolean {
  return (err as SdkErrorLike | null)?.name === 'ConditionalRequestConflict' || statusOf(err) === 409;
}

export function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (err as SdkErrorLike | null)?.name === 'AbortError';
}

/** Maps anything an SDK call threw to a coded chunkstream error naming the operation and key. */
export function toStoreError(op: string, key: string, err: unknown, signal?: AbortSignal): ChunkstreamError {
  if (isChunkstreamError(err)) return err;
  // The raw response (sockets, agents) stays reachable but out of logs and test output.
  if (err && typeof err === 'object' && '$response' in err) Object.defineProperty(err, '$response', { enumerable: false });
  if (isAbort(err, signal))
    return signal?.aborted ? withCause(abortError(signal), err) : new AbortError(`[s3] ${op} ${key} aborted`, { cause: err });
  if (isMissing(err)) return new NotFoundError(`object ${key}`);
  const e = (err ?? {}) as SdkErrorLike;
  const status = statusOf(err);
  const what = [e.name, e.code, status && `HTTP ${status}`].filter(Boolean).join(' ');
  return new StorageError('s3', `${op} ${key} failed${what ? ` (${what})` : ''}: ${e.message ?? String(err)}`, { cause: err });
}

function withCause(e: AbortError, cause: unknown): AbortError {
  return new AbortError(e.message, { cause: e.cause ?? cause });
}

/**
 * Reads a GetObject body to the end. The SDK's retries end when the headers arrive, so a
 * connection dropped mid-body surfaces here; a short body is an error too (never wrong bytes).
 */
export async function readBody(body: unknown, expected: number | undefined, signal?: AbortSignal): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  return consume(body as Readable, signal, async (parts) => {
    const read: Buffer[] = [];
    let length = 0;
    for await (const part of parts) {
      read.push(part);
      length += part.byteLength;
    }
    if (expected !== undefined && length !== expected) throw new BodyError(`body ended after ${length} of ${expected} bytes`);
    const [only] = read;
    return read.length === 1 && only ? new Uint8Array(only.buffer, only.byteOffset, length) : Buffer.concat(read, length);
  });
}

/**
 * Reads a GetObject body into `target` (a reused chunk buffer) instead of a new one; the body
 * must hold exactly `expected` bytes (the response's Content-Length) and fit.
 */
export async function readBodyInto(body: unknown, target: Uint8Array, expected: number | undefined, signal?: AbortSignal): Promise<number> {
  if (!body) return 0;
  return consume(body as Readable, signal, async (parts) => {
    let n = 0;
    for await (const part of parts) {
      if (n + part.byteLength > target.byteLength) throw new BodyError(`body longer than the ${target.byteLength} bytes asked for`);
      target.set(part, n);
      n += part.byteLength;
    }
    if (expected !== undefined && n !== expected) throw new BodyError(`body ended after ${n} of ${expected} bytes`);
    return n;
  });
}

/** Runs `read` over the body's parts: an abort destroys the stream, any failure but an abort is a BodyError. */
async function consume<T>(
  stream: Readable,
  signal: AbortSignal | undefined,
  read: (parts: AsyncIterable<Buffer>) => Promise<T>,
): Promise<T> {
  const onAbort = () => signal && stream.destroy?.(abortError(signal));
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) onAbort(); // aborted between the response and now: read none of the body
  try {
    return await read(stream as AsyncIterable<Buffer>);
  } catch (err) {
    if (signal?.aborted) throw abortError(signal);
    if (err instanceof BodyError) throw err;
    throw new BodyError(`reading the body failed: ${(err as Error)?.message ?? String(err)}`, err);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/** A response body that broke off: worth another attempt, unlike a service error. */
export class BodyError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'BodyError';
  }
}
