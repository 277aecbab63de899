import type { Subscription } from 'rxjs';
import { fileInfo } from '../catalog/schema.js';
import { resolveRange } from '../engine/download.js';
import { HeldBytes } from '../internal/gauge.js';
import { createDemand } from '../operators/demand.js';
import { FrameType, encodeFrameHeader } from '../protocol/frames.js';
import { downloadBound, type Reservation } from './budget.js';
import type { ClientMessageOf } from '../protocol/messages.js';
import type { StreamContext, StreamHandle } from './ws-types.js';

/**
 * A download on one stream: header, chunk frames strictly in order, end.
 *
 *   store.downloadManifest (reads ≤ window chunks ahead) ──one chunk at a time──▶ ws.send
 *
 * The next chunk is taken from the store only when the previous one was flushed to the socket
 * (send callback) *and* the client has credit left. A chunk stays counted in the store's gauge
 * until that next request acknowledges it, so per stream the server holds at most
 * window (read ahead) + 1 (being sent) chunks: a slow or stalled reader cannot raise it.
 * That bound is reserved in the server's budget once the manifest is known (`busy` if it does
 * not fit), and released when the stream is over and its last frame has left (sent callback).
 */
export function startDownload(ctx: StreamContext, msg: ClientMessageOf<'download'>): StreamHandle {
  const { store, window } = ctx.shared;
  const stream = ctx.stream;
  const controller = new AbortController();
  const demand = createDemand();
  // The last chunk is sent after the store let go of it (completion): counted here until flushed.
  const wire = new HeldBytes(store.gauge);
  let permits = msg.credit ?? 0; // chunks the client still accepts
  let state: 'idle' | 'requested' | 'sending' = 'idle';
  let sending = 0;
  let sub: Subscription | undefined;
  let cancelled = false;
  let over = false; // completed, failed or cancelled
  let reservation: Reservation | undefined;
  const settle = () => {
    if (over && state !== 'sending') reservation?.release();
  };

  const pump = () => {
    if (cancelled || !sub || state !== 'idle' || permits === 0) return;
    permits--;
    state = 'requested';
    demand.request(1); // acknowledges the flushed chunk and lets the store deliver one more
  };

  const sent = () => {
    if (wire.held !== 0) wire.release(wire.held);
    sending = 0;
    state = 'idle';
    settle();
    pump();
  };

  store
    .manifest(msg.id, { signal: controller.signal })
    .then(
      (m) => {
        if (cancelled) return;
        const r = resolveRange(m.size, msg.range);
        const start = r?.start ?? 0;
        const end = r?.end ?? m.size - 1;
        const length = m.size === 0 ? 0 : end - start + 1;
        const chunks = length === 0 ? 0 : Math.floor(end / m.chunkSize) - Math.floor(start / m.chunkSize) + 1;
        reservation = ctx.reserve(downloadBound(m, r, window)); // BusyError → `error` busy on this stream
        ctx.send({ type: 'header', stream, file: fileInfo(m), range: r ?? null, length, chunks });
        let offset = start;
        const s = store
          .downloadManifest(m, { range: msg.range, demand: demand.demand$, concurrency: window, signal: controller.signal })
          .subscribe({
            next: (data) => {
              state = 'sending';
              sending = data.byteLength;
              ctx.sendData(encodeFrameHeader(FrameType.DOWNLOAD_DATA, stream, offset), data, sent);
              offset += data.byteLength;
            },
            error: (err) => {
              over = true;
              ctx.fail(err);
              settle();
            },
            complete: () => {
              // Queued behind the last frame: ws sends in order.
              ctx.send({ type: 'end', stream, bytes: offset - start });
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
        if (cancelled) s.unsubscribe();
        else pump();
      },
      (err) => {
        if (!cancelled) ctx.fail(err);
      },
    )
    .catch((err) => ctx.fail(err)); // resolveRange throws inside the handler: 400 / 416 for the stream

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
      permits += chunks;
      pump();
    },
  };
}
