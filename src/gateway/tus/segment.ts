import type { IncomingMessage } from 'node:http';
import { lastValueFrom, tap } from 'rxjs';
import type { FileInfo } from '../../catalog/schema.js';
import { uploadBound, type TransferBudget } from '../../engine/budget.js';
import type { Store } from '../../engine/store.js';
import type { UploadOptions } from '../../engine/upload-types.js';
import { AbortError, ChecksumMismatchError, ChunkstreamError, toChunkstreamError, InternalError } from '../../errors.js';
import { bodyOf } from '../http/request-body.js';
import type { Checksum } from './headers.js';

export type SegmentResult =
  | { type: 'paused'; uploadId: string; offset: number; expires: string; interrupted?: true; cause?: unknown }
  | { type: 'committed'; uploadId: string; file: FileInfo };

export interface SegmentRequest {
  store: Store;
  budget: TransferBudget;
  /** The client's key for its share of the budget. */
  client: string;
  req: IncomingMessage;
  /** The request's signal (client gone, server shutting down): it ends the body, so the segment pauses. */
  signal: AbortSignal;
  idleTimeoutMs: number;
  /** false: no body to read (a creation without data), nothing reserved. */
  body: boolean;
  checksum?: Checksum;
  /** Learns the upload id as soon as the engine has the session (a creation's new id). */
  onStarted?: (uploadId: string) => void;
}

/**
 * One tus request body (a PATCH, or a POST with creation-with-upload) as one engine segment:
 * the engine pauses at its exact last byte with the partial tail durable, or commits when the
 * declared length is reached. The body is pulled only as fast as chunks are stored, within the
 * upload's reservation in the server's budget ((uploadConcurrency + 1) × chunkSize, as a PUT).
 *
 * Without Upload-Checksum a body that breaks off (client gone, idle too long) keeps what arrived:
 * the engine pauses there, durably, and the client's next HEAD reports it. With one, the segment
 * is all or nothing: it is accepted only when the body ended whole and its digest matches.
 * No transfer signal is passed: aborting would drop the tail, ending the body keeps it.
 */
export async function runSegment(r: SegmentRequest, options: UploadOptions): Promise<SegmentResult> {
  const state: { complete: boolean; error?: ChunkstreamError } = { complete: false };
  const { checksum } = r;
  const onAbort = () => r.req.destroy();
  r.signal.addEventListener('abort', onAbort, { once: true });
  // 503 busy before any byte is read; a declared body length bounds what the segment can hold.
  const length = Number(r.req.headers['content-length'] ?? NaN);
  const size = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
  const reservation = r.body ? r.budget.reserve(uploadBound(r.store.options, 0, size), r.client) : undefined;
  try {
    const source = r.body ? tapped(bodyOf(r.req, r.idleTimeoutMs), state, checksum) : new Uint8Array(0);
    const accept = checksum
      ? () => {
          if (!state.complete) throw state.error ?? new AbortError('the PATCH body was cut off: with Upload-Checksum none of it is kept');
          const got = checksum.hash.digest();
          if (!got.equals(checksum.expected)) {
            throw new ChecksumMismatchError(
              checksum.algorithm,
              `Upload-Checksum: the body's ${checksum.algorithm} is ${got.toString('base64')}, not ${checksum.expected.toString('base64')}: none of it was stored`,
            );
          }
        }
      : undefined;
    let uploadId = options.uploadId;
    const last = await lastValueFrom(
      r.store.upload(source, { ...options, segment: accept ? { accept } : true }).pipe(
        tap((e) => {
          if (e.type === 'started') {
            uploadId = e.uploadId;
            r.onStarted?.(e.uploadId);
          }
        }),
      ),
      { defaultValue: undefined },
    );
    if (last?.type === 'paused') return { ...last, ...(state.error !== undefined ? { cause: state.error } : {}) };
    if (last?.type === 'committed' && uploadId) return { type: 'committed', uploadId, file: last.file };
    throw new InternalError(`tus segment ended with ${last?.type ?? 'nothing'}`);
  } finally {
    reservation?.release();
    r.signal.removeEventListener('abort', onAbort);
  }
}

/** The body as it passes to the engine: hashed for Upload-Checksum, and whether it ended whole. */
async function* tapped(
  pieces: AsyncIterable<Uint8Array>,
  state: { complete: boolean; error?: ChunkstreamError },
  checksum: Checksum | undefined,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const piece of pieces) {
      checksum?.hash.update(piece);
      yield piece;
    }
    state.complete = true;
  } catch (err) {
    state.error = toChunkstreamError(err);
    throw err;
  }
}
