import type { Subscription } from 'rxjs';
import type { DownloadPlan } from '../../engine/plan.js';
import type { Reservation } from '../../engine/budget.js';
import { TimeoutError } from '../../errors.js';
import { HeldBytes } from '../../internal/gauge.js';
import { createDemand } from '../../operators/demand.js';
import { FrameType, encodeFrame, frameHeaderBytes, writeFrameHeader } from '../../protocol/frames.js';
import type { ClientMessageOf } from '../../protocol/messages.js';
import type { StreamContext, StreamHandle } from './types.js';

/**
 * A download on one stream: header, chunk frames strictly in order, end.
 *
 *   store.read(plan) (reads ≤ window chunks ahead, lent slabs) ──one chunk at a time──▶ ws.send
 *
 * Each chunk goes out as one binary message built in place: the frame header is written into the
 * slab's headroom just before the chunk's bytes (no copy, one fragment for the receiver). The next
 * chunk is taken from the store only when the previous one was flushed to the socket (send
 * callback) *and* the client has credit left; that request also hands the flushed slab back for
 * reuse. So per stream the server holds at most window (read ahead) + 1 (being sent) chunks,
 * whatever the reader does. That bound is reserved in the server's budget once the plan is known
 * (`busy` if it does not fit), and released when the stream is over and its last frame has left.
 */
export function startDownload(ctx: StreamContext, msg: ClientMessageOf<'download'>): StreamHandle {
  const { store, window } = ctx.shared;
  const stream = ctx.stream;
  const controller = new AbortController();
  const demand = createDemand();
  const type = msg.digests ? FrameType.DOWNLOAD_CHUNK : FrameType.DOWNLOAD_DATA;
  const head = frameHeaderBytes(type);
  // The last chunk is sent after the store let go of it (completion): counted here until flushed.
  const wire = new HeldBytes(store.gauge);
  let permits = msg.credit ?? 0; // chunks the client still accepts
  let state: 'idle' | 'requested' | 'sending' = 'idle';
  let sending = 0;
  let sub: Subscription | undefined;
  let cancelled = false;
  let over = false; // completed, failed or cancelled
  let reservation: Reservation | undefined;
  // A client that grants no credit, or whose socket takes nothing, for sendTimeoutMs holds its
  // reservation for nothing: the stream fails with `timeout`. Waiting for storage does not count.
  let stall: NodeJS.Timeout | undefined;
  const touch = () => {
    clearTimeout(stall);
    if (over) return;
    stall = setTimeout(() => {
      if (over) return;
      if (state === 'requested') return touch(); // the store is slow, not the client
      ctx.fail(new TimeoutError(`download: the client took nothing for ${ctx.shared.sendTimeoutMs} ms (sendTimeoutMs)`));
    }, ctx.shared.sendTimeoutMs);
    stall.unref();
  };
  const settle = () => {
    if (over) clearTimeout(stall);
    if (over && state !== 'sending') reservation?.release();
  };

  const pump = () => {
    if (cancelled || !sub || state !== 'idle' || permits === 0) return;
    permits--;
    state = 'requested';
    demand.request(1); // acknowledges the flushed chunk (its slab is reused) and lets the store deliver one more
  };

  let flushed = 0; // chunks the socket took
  const sent = () => {
    touch();
    // Near the end fewer chunks are left than the window: give back what cannot be used (the
    // flushed chunk's slab is held until the next request, hence + 1).
    if (current && ++flushed < current.chunks) {
      reservation?.shrink?.(Math.min(window + 1, current.chunks - flushed + 1) * current.manifest.chunkSize);
    }
    if (wire.held !== 0) wire.release(wire.held);
    sending = 0;
    state = 'idle';
    settle();
    pump();
  };

  let current: DownloadPlan | undefined;
  const begin = (plan: DownloadPlan) => {
    current = plan;
    reservation = ctx.reserve(plan.bound(window)); // BusyError → `error` busy on this stream
    const { manifest: m } = plan;
    ctx.send({ type: 'header', stream, file: plan.file, range: plan.range ?? null, length: plan.length, chunks: plan.chunks });
    let offset = plan.start;
    const { lend, meter } = ctx;
    const s = store.read(plan, { demand: demand.demand$, concurrency: window, signal: controller.signal, lend, meter }).subscribe({
      next: (data) => {
        state = 'sending';
        sending = data.byteLength;
        const digest = type === FrameType.DOWNLOAD_CHUNK ? Buffer.from(m.chunks[Math.floor(offset / m.chunkSize)]!.key, 'hex') : undefined;
        let frame: Uint8Array;
        if (lend) {
          // A lent chunk has HEADROOM writable bytes before it: the frame starts there.
          frame = Buffer.from(data.buffer, data.byteOffset - head, head + data.byteLength);
          writeFrameHeader(frame, type, stream, offset, digest);
        } else frame = encodeFrame(type, stream, offset, data, digest);
        ctx.sendFrame(frame, sent);
        offset += data.byteLength;
      },
      error: (err) => {
        over = true;
        ctx.fail(err);
        settle();
      },
      complete: () => {
        // Queued behind the last frame: ws sends in order.
        ctx.send({ type: 'end', stream, bytes: offset - plan.start });
        ctx.finish();
        over = true;
        settle();
      },
    });
    // Runs after the store's own teardown released the chunk being sent (complete or cancel).
    s.add(() => {
      if (state === 'sending' && wire.held === 0) wire.add(sending);
    });
    sub = s;
    touch();
    if (cancelled) s.unsubscribe();
    else pump();
  };

  store
    .plan(msg.id, { range: msg.range, signal: controller.signal })
    .then((plan) => {
      if (!cancelled) begin(plan);
    })
    .catch((err) => {
      if (!cancelled) ctx.fail(err); // not_found, 400 / 416 for the range, busy
    });

  return {
    kind: 'download',
    cancel() {
      if (cancelled) return;
      cancelled = true;
      sub?.unsubscribe(); // before the abort: an aborted pipeline would report an error
      controller.abort();
      over = true;
      settle();
    },
    credit(chunks) {
      touch();
      permits += chunks;
      pump();
    },
  };
}
