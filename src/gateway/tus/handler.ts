import { clientKey, type ClientKeyer } from '../client-key.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkId } from '../../catalog/model.js';
import type { TransferBudget } from '../../engine/budget.js';
import type { Store, UploadStatus } from '../../engine/store.js';
import { checkNotExpired } from '../../engine/uploads.js';
import {
  BadRequestError,
  NotFoundError,
  TooLargeError,
  toChunkstreamError,
  ConflictError,
  MethodNotAllowedError,
  TimeoutError,
} from '../../errors.js';
import type { HttpMount } from '../handler-options.js';
import { sendError } from '../http/respond.js';
import * as H from './headers.js';
import { UploadLocks } from './lock.js';
import { runSegment, type SegmentResult } from './segment.js';

export const TUS_PATH = '/v1/tus';

export interface TusOptions {
  store: Store;
  budget: TransferBudget;
  bodyIdleTimeoutMs: number;
  /** Who a request is for the per-client budget share (default: token, else peer address). */
  clientKey?: ClientKeyer;
  /** Base of the Location URLs (`--public-url`); default a path on the request's own origin. */
  publicUrl?: string;
}

/** tus's dispatch, mounted by the server on the HTTP base. */
export type TusHandler = HttpMount;

type Headers = Record<string, string | number>;

/**
 * tus 1.0.0 (https://tus.io/protocols/resumable-upload) at /v1/tus/ on the engine's own upload
 * sessions: a tus upload id is the engine's upload id, its offset the session's durable offset,
 * and its last PATCH commits the file like any upload. See docs/tus.md.
 *
 *   OPTIONS /v1/tus/        204 Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm
 *   POST    /v1/tus/        201 Location: /v1/tus/ID (creation, -with-upload, -defer-length)
 *   HEAD    /v1/tus/ID      200 Upload-Offset, Upload-Length | Upload-Defer-Length, Upload-Metadata, Upload-Expires
 *   PATCH   /v1/tus/ID      204 Upload-Offset (+ Chunkstream-File-Id once committed)
 *   DELETE  /v1/tus/ID      204 (termination)
 */
export function createTusHandler(o: TusOptions): TusHandler {
  const { store } = o;
  const keyOf = o.clientKey ?? clientKey;
  const base = o.publicUrl?.replace(/\/+$/, '') ?? '';
  const locks = new UploadLocks();
  const lock = (id: string, req: IncomingMessage) => locks.take(id, req);
  const status = async (id: string, signal: AbortSignal): Promise<UploadStatus> => {
    const s = await store.uploadStatus(id, { signal });
    if (!s.committed) checkNotExpired(s, store.options.now()); // the engine's rule: HEAD says 410 as a PATCH would
    return s;
  };
  const sizeLimit = (field: string, bytes: number) => {
    const max = store.options.maxFileSize;
    if (bytes > max) throw new TooLargeError(field, max, `${field}: ${bytes} bytes exceed the server's maximum upload size (${max})`);
  };
  const segmentHeaders = (r: SegmentResult): Headers =>
    r.type === 'committed'
      ? { 'Upload-Offset': r.file.size, [H.FILE_ID_HEADER]: r.file.id }
      : { 'Upload-Offset': r.offset, 'Upload-Expires': new Date(r.expires).toUTCString() };
  /** A body that broke off: the client is gone (nothing to say), or stalled (408, and the offset it reached). */
  const interrupted = (res: ServerResponse, r: SegmentResult): boolean => {
    if (r.type !== 'paused' || !r.interrupted) return false;
    if (res.destroyed || res.writableEnded) return true;
    sendError(res, r.cause ?? new TimeoutError('the request body broke off'), {
      ...H.strings(segmentHeaders(r)),
      Connection: 'close',
    });
    return true;
  };

  const options = async (res: ServerResponse) => {
    res
      .writeHead(204, {
        'Tus-Version': H.TUS_VERSION,
        'Tus-Extension': H.TUS_EXTENSIONS.join(','),
        // Only a real limit is announced: the default (no --max-file-size) is "none", not 2^53 − 1.
        ...(store.options.maxFileSize < Number.MAX_SAFE_INTEGER ? { 'Tus-Max-Size': store.options.maxFileSize } : {}),
        'Tus-Checksum-Algorithm': H.CHECKSUM_ALGORITHMS.join(','),
      })
      .end();
  };

  const create = async (req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => {
    const h = req.headers;
    H.checkTusResumable(h);
    if (h['upload-concat'] !== undefined) {
      throw new BadRequestError('Upload-Concat', 'concatenation is not supported here (docs/tus.md says why): upload the file as one');
    }
    const length = H.declaredLength(h);
    if (length !== undefined) sizeLimit('Upload-Length', length);
    const rawMeta = typeof h['upload-metadata'] === 'string' ? h['upload-metadata'].trim() : undefined;
    const { name, type } = H.describeFile(H.parseMetadata(rawMeta));
    const contentLength = H.byteCount(h, 'content-length', 'Content-Length');
    const body = (contentLength ?? 0) > 0 || h['transfer-encoding'] !== undefined;
    if (body) H.requireOffsetStream(h);
    if (body && length !== undefined && contentLength !== undefined && contentLength > length) {
      throw new TooLargeError('Content-Length', length, `Content-Length: ${contentLength} bytes exceed Upload-Length (${length})`);
    }
    const checksum = body ? H.parseChecksum(h) : undefined;
    let created: string | undefined;
    let r: SegmentResult;
    try {
      r = await runSegment(
        {
          store,
          budget: o.budget,
          client: keyOf(req),
          req,
          signal,
          idleTimeoutMs: o.bodyIdleTimeoutMs,
          body,
          checksum,
          onStarted: (id) => (created = id),
        },
        { name, expectedSize: length, ...(type ? { type } : {}), ...(rawMeta ? { metadata: rawMeta } : {}) },
      );
    } catch (err) {
      // A creation that failed (its data refused by the checksum, too large, storage) leaves nothing:
      // its client never learned the URL, and starts over.
      if (created) await store.abortUpload(created).catch(() => undefined);
      throw err;
    }
    if (interrupted(res, r)) return;
    res.writeHead(201, { Location: `${base}${TUS_PATH}/${r.uploadId}`, ...segmentHeaders(r) }).end();
  };

  const head = async (id: string, req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => {
    H.checkTusResumable(req.headers);
    // A client asking where to resume gave up on its last PATCH, which may still run here: it ends
    // now, keeping what it got, and HEAD reports that offset (not a lower one the next PATCH would conflict with).
    (await lock(id, req))();
    const s = await status(id, signal);
    const headers: Headers = { 'Upload-Offset': s.offset };
    if (s.committed) Object.assign(headers, { 'Upload-Length': s.committed.size, [H.FILE_ID_HEADER]: s.committed.id });
    else {
      Object.assign(headers, s.length === undefined ? { 'Upload-Defer-Length': 1 } : { 'Upload-Length': s.length });
      headers['Upload-Expires'] = new Date(s.expires).toUTCString();
      if (s.metadata) headers['Upload-Metadata'] = s.metadata;
    }
    res.writeHead(200, headers).end();
  };

  const patch = async (id: string, req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => {
    const h = req.headers;
    H.checkTusResumable(h);
    H.requireOffsetStream(h);
    const offset = H.byteCount(h, 'upload-offset', 'Upload-Offset');
    if (offset === undefined) throw new BadRequestError('Upload-Offset', 'required');
    const declared = H.byteCount(h, 'upload-length', 'Upload-Length');
    const contentLength = H.byteCount(h, 'content-length', 'Content-Length');
    const checksum = H.parseChecksum(h);
    const unlock = await lock(id, req);
    try {
      const s = await status(id, signal);
      if (offset !== s.offset) {
        throw new ConflictError(`Upload-Offset: ${offset}, but upload ${id} is at ${s.offset} (HEAD tells where to resume)`);
      }
      const length = declared ?? s.length ?? s.committed?.size;
      if (declared !== undefined) {
        if (s.length !== undefined && declared !== s.length) {
          throw new BadRequestError('Upload-Length', `upload ${id} was declared ${s.length} bytes, not ${declared}`);
        }
        if (declared < s.offset)
          throw new BadRequestError('Upload-Length', `${declared} is less than the ${s.offset} bytes already stored`);
        sizeLimit('Upload-Length', declared);
      }
      if (contentLength !== undefined) {
        if (length !== undefined && offset + contentLength > length) {
          throw new TooLargeError(
            'Content-Length',
            length,
            `Content-Length: ${contentLength} bytes at offset ${offset} exceed Upload-Length (${length})`,
          );
        }
        sizeLimit('Content-Length', offset + contentLength);
      }
      if (s.committed) {
        res.writeHead(204, segmentHeaders({ type: 'committed', uploadId: id, file: s.committed })).end(); // a retry after a lost answer
        return;
      }
      const r = await runSegment(
        {
          store,
          budget: o.budget,
          client: keyOf(req),
          req,
          signal,
          idleTimeoutMs: o.bodyIdleTimeoutMs,
          body: true,
          checksum,
        },
        { uploadId: id, offset, ...(declared !== undefined ? { expectedSize: declared } : {}) },
      );
      if (interrupted(res, r)) return;
      res.writeHead(204, segmentHeaders(r)).end();
    } finally {
      unlock();
    }
  };

  const terminate = async (id: string, req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => {
    H.checkTusResumable(req.headers);
    const unlock = await lock(id, req);
    try {
      await store.abortUpload(id, { signal }); // a committed upload's marker only: the file stays
      res.writeHead(204).end();
    } finally {
      unlock();
    }
  };

  return {
    handles: (p) => p === TUS_PATH || p.startsWith(`${TUS_PATH}/`),
    headers: { 'Tus-Resumable': H.TUS_VERSION },
    label: (p) => (p === TUS_PATH || p === `${TUS_PATH}/` ? `${TUS_PATH}/` : `${TUS_PATH}/:id`),
    async handle(req, res, pathname, signal) {
      res.setHeader('Tus-Resumable', H.TUS_VERSION);
      res.setHeader('Cache-Control', 'no-store');
      try {
        const method = H.methodOf(req);
        const rest = pathname.slice(TUS_PATH.length).replace(/^\//, '');
        if (rest === '') {
          if (method === 'OPTIONS') return await options(res);
          if (method === 'POST') return await create(req, res, signal);
          return notAllowed(res, method, 'OPTIONS, POST');
        }
        if (rest.includes('/')) throw new NotFoundError(`route ${pathname.slice(0, 200)}`);
        const id = checkId(H.decodeId(rest), 'uploadId');
        if (method === 'OPTIONS') return await options(res);
        if (method === 'HEAD') return await head(id, req, res, signal);
        if (method === 'PATCH') return await patch(id, req, res, signal);
        if (method === 'DELETE') return await terminate(id, req, res, signal);
        return notAllowed(res, method, 'OPTIONS, HEAD, PATCH, DELETE');
      } catch (err) {
        const e = toChunkstreamError(err);
        sendError(res, e, e.code === 'precondition_failed' ? { 'Tus-Version': H.TUS_VERSION } : {});
      }
    },
  };
}

function notAllowed(res: ServerResponse, method: string, allow: string): void {
  sendError(res, new MethodNotAllowedError(`${method.slice(0, 20)} is not allowed here (tus: ${allow})`), {
    Allow: allow,
  });
}
