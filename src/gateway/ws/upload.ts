import type { Subscription } from 'rxjs';
import { HeldBytes } from '../../internal/gauge.js';
import { CreditExceededError, MalformedMessageError, UploadTakenOverError } from '../../protocol/errors.js';
import type { Frame } from '../../protocol/frames.js';
import type { ClientMessageOf } from '../../protocol/messages.js';
import { uploadBound } from '../../engine/budget.js';
import type { StreamContext, StreamHandle } from './types.js';
import { Inbox } from './inbox.js';

/**
 * An upload on one stream:
 *
 *   client ──data frames (≤ credit)──▶ Inbox ──pulled by──▶ store.upload (bounded pipeline)
 *          ◀──credit (bytes the store consumed)──┘
 *
 * The client may have at most window × chunkSize bytes granted and not yet consumed, so the
 * gateway holds at most that per upload, whatever the client or the disk do. With the engine's
 * (uploadConcurrency + 1) chunks, that bound is reserved in the server's budget before the upload
 * starts (`busy` if it does not fit: nothing is stored) and released when it ends in any way.
 */
export function startUpload(ctx: StreamContext, msg: ClientMessageOf<'upload'>): StreamHandle {
  const { store, window, uploads } = ctx.shared;
  const stream = ctx.stream;
  const gauge = new HeldBytes(store.gauge);
  const initialCredit = window * store.options.chunkSize;
  // A resume takes the upload over from the stream still writing it (claim, below): that stream
  // ends first, so its reservation is back before this one is made.
  if (msg.uploadId) uploads.get(msg.uploadId)?.(msg.uploadId);
  // Throws BusyError before anything exists: the stream is answered with `error` busy.
  // (A resume of an upload begun with another chunk size is counted at the current one.)
  const reservation = ctx.reserve(uploadBound(store.options, window, msg.size));
  let credit = 0;
  let next = -1; // file offset the next data frame must start at; -1 until 'started'
  let ended = false;
  let uploadId: string | undefined;
  let sub: Subscription | undefined;
  let cancelled = false;
  let discarded = false;

  const inbox = new Inbox(gauge, (bytes) => {
    credit += bytes;
    ctx.send({ type: 'credit', stream, bytes });
  });

  const takeAway = (id: string) => ctx.fail(new UploadTakenOverError(id));
  const claim = (id: string) => {
    uploadId = id;
    const previous = uploads.get(id);
    uploads.set(id, takeAway);
    // Last resumer wins: a client that reconnects may get here before its old socket's close.
    if (previous && previous !== takeAway) previous(id);
  };

  const cancel = () => {
    if (cancelled) return;
    cancelled = true;
    if (uploadId && uploads.get(uploadId) === takeAway) uploads.delete(uploadId);
    sub?.unsubscribe();
    inbox.close();
    gauge.close();
    reservation.release();
  };

  if (msg.uploadId) claim(msg.uploadId);
  sub = store
    .upload(() => inbox, {
      name: msg.name,
      uploadId: msg.uploadId,
      expectedSize: msg.size,
      expectedSha256: msg.sha256,
      meter: ctx.meter,
      resumable: () => !discarded, // asked when the upload ends
    })
    .subscribe({
      next: (e) => {
        if (e.type === 'started') {
          if (!msg.uploadId) claim(e.uploadId);
          next = e.offset;
          // Already committed (a resume after a lost `committed`): no credit, so the client sends
          // nothing; `committed` follows at once.
          credit = e.alreadyCommitted ? 0 : initialCredit;
          ctx.send({ type: 'started', stream, uploadId: e.uploadId, offset: e.offset, credit });
        } else if (e.type === 'progress') {
          ctx.send({ type: 'progress', stream, uploadId: e.uploadId, bytes: e.bytes, chunks: e.chunks });
        } else if (e.type === 'committed') {
          ctx.send({ type: 'committed', stream, file: e.file });
        }
      },
      error: (err) => {
        ctx.fail(err);
        cancel();
      },
      complete: () => {
        ctx.finish();
        cancel();
      },
    });
  if (cancelled) sub.unsubscribe();

  return {
    kind: 'upload',
    cancel,
    discard: () => void (discarded = true),
    data(frame: Frame) {
      const n = frame.payload.byteLength;
      if (ended) return ctx.fail(new MalformedMessageError('frame', `data frame after end on stream ${stream}`));
      if (next < 0 || n > credit) return ctx.fail(new CreditExceededError(stream, n, Math.max(credit, 0)));
      if (frame.offset !== next)
        return ctx.fail(new MalformedMessageError('frame.offset', `expected offset ${next} on stream ${stream}, got ${frame.offset}`));
      credit -= n;
      next += n;
      if (n > 0) inbox.push(frame.payload);
    },
    end() {
      if (next < 0) return ctx.fail(new MalformedMessageError('end', `end before the server's started message on stream ${stream}`));
      ended = true;
      inbox.end();
    },
  };
}
