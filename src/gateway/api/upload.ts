import { lastValueFrom } from 'rxjs';
import { type FileInfo } from '../../catalog/schema.js';
import { checkName } from '../../catalog/model.js';
import { BadRequestError, ChunkstreamError, InternalError } from '../../errors.js';
import { bodyOf } from '../http/request-body.js';
import { uploadBound } from '../../engine/budget.js';
import type { RequestContext } from '../handler-options.js';
import { sendError, sendJson } from '../http/respond.js';

/**
 * PUT /v1/files?name=NAME: the request body is the upload source, pulled only as fast as
 * chunks are stored (never buffered whole). `Content-Length` becomes expectedSize and
 * `X-Content-SHA256` expectedSha256, so a short or altered body is never committed.
 */
export async function receiveFile({
  store,
  url,
  req,
  res,
  signal,
  bodyIdleTimeoutMs,
  budget,
  meter,
  client,
}: RequestContext): Promise<void> {
  const rawName = url.searchParams.get('name');
  if (rawName === null) throw new BadRequestError('name', 'required (PUT /v1/files?name=NAME)');
  const name = checkName(rawName); // before reading any body: a bad name costs no upload
  const length = req.headers['content-length'];
  const expectedSize = length === undefined ? undefined : Number(length);
  if (expectedSize !== undefined && !Number.isSafeInteger(expectedSize)) throw new BadRequestError('content-length', 'must be an integer');
  const sha = req.headers['x-content-sha256'];
  if (sha !== undefined && (typeof sha !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha))) {
    throw new BadRequestError('x-content-sha256', 'must be 64 hex digits');
  }
  let file: FileInfo | undefined;
  // The body is pulled, not queued: the engine's (uploadConcurrency + 1) chunks are the bound.
  // Reserved before any byte is read, so a refused upload (503 busy) stores nothing.
  const reservation = budget.reserve(uploadBound(store.options, 0, expectedSize), client);
  // Its upload id is never told to the client: a PUT that fails or is cut leaves nothing to resume, so nothing stays.
  const events = store.upload(bodyOf(req, bodyIdleTimeoutMs), { name, expectedSize, expectedSha256: sha, signal, meter, resumable: false });
  try {
    const e = await lastValueFrom(events, { defaultValue: undefined });
    if (e?.type === 'committed') file = e.file;
  } catch (err) {
    // A stalled client will not read a reply on a socket it no longer writes to either:
    // answer 408 and close the connection instead of waiting for the rest of its body.
    if (err instanceof ChunkstreamError && err.code === 'timeout') return sendError(res, err, { Connection: 'close' });
    throw err;
  } finally {
    reservation.release(); // the upload's pipeline has ended (committed, failed or aborted)
  }
  if (!file) throw new InternalError('upload ended without a commit');
  sendJson(res, 201, file, { Location: `/v1/files/${file.id}` });
}
