import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import type { Store } from '../engine/store.js';
import { createDemand } from '../operators/demand.js';
import { downloadBound, type TransferBudget } from './budget.js';
import { planFileResponse } from './http-file-response.js';
import type { BodySegment } from './http-multipart.js';
import type { ByteSpan } from './http-ranges.js';
import { sendError } from './http-util.js';

/** Reads one span of the file, one chunk per credit on `demand`. Swappable (a multi-range engine read). */
export type SpanSource = (span: ByteSpan, demand: Observable<number>) => Observable<Uint8Array>;

export interface ServeFileOptions {
  budget?: TransferBudget;
  /** Cache lifetime of the response (a signed link's remaining validity); default a year. */
  maxAgeS?: number;
}

/**
 * GET/HEAD /v1/files/:id. What to answer (304, 412, 416, 200, 206, multipart) is decided up
 * front by planFileResponse; this reserves the transfer's bound in the server's budget (503
 * `busy` if it does not fit, released when the response closes) and streams the body.
 */
export async function serveFile(
  store: Store,
  id: string,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
  o: ServeFileOptions = {},
): Promise<void> {
  const manifest = await store.manifest(id, { signal });
  const plan = planFileResponse(req.method ?? 'GET', req.headers, manifest, { maxAgeS: o.maxAgeS });
  if (plan.kind === 'not_modified') return void res.writeHead(304, plan.headers).end();
  if (plan.kind === 'error') return sendError(res, plan.error, plan.headers);
  const reads = plan.segments.some((s) => 'span' in s);
  if (o.budget && reads) {
    // Parts are read one after the other: the largest part's bound is the transfer's.
    const bound = Math.max(...plan.spans.map((span) => downloadBound(manifest, span, store.options.downloadConcurrency)));
    const reservation = o.budget.reserve(bound); // throws busy → 503
    res.once('close', reservation.release);
    if (res.destroyed) reservation.release(); // 'close' may have gone by already
  }
  const source: SpanSource = (span, demand) => store.downloadManifest(manifest, { range: span, demand, signal });
  await sendBody(res, plan.status, plan.headers, plan.segments, source);
}

/**
 * Writes the status line and headers only when the first chunk of the file has arrived
 * (verified): a chunk that fails before it gives a coded error (500 `integrity`) instead of a
 * 200 cut off after zero bytes. Framing before the first span waits with the headers.
 */
async function sendBody(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  segments: BodySegment[],
  source: SpanSource,
): Promise<void> {
  let held: Buffer[] | undefined = [];
  const start = () => {
    if (!held) return;
    res.writeHead(status, headers);
    for (const b of held) res.write(b);
    held = undefined;
  };
  if (!segments.some((s) => 'span' in s)) return void (start(), res.end());
  for (const segment of segments) {
    if (res.destroyed) return;
    if ('bytes' in segment) {
      if (held) held.push(segment.bytes);
      else if (!res.write(segment.bytes) && !(await drained(res))) return;
    } else if (!(await streamSpan(res, segment.span, source, start))) return;
  }
  res.end();
}

/**
 * The engine's ordered pipeline with a credit channel driven by `res.write()`: one credit per
 * chunk, the next one only once the socket accepted the previous chunk (write returned true, or
 * 'drain'). A credit also acknowledges the chunk written before it, so the store's gauge counts
 * every chunk until the socket took it: held ≤ (downloadConcurrency read ahead + 1 being
 * written) × chunkSize, plus less than the response's highWaterMark and what the kernel socket
 * buffers hold (not counted, not ours). Resolves false when the response is over (failed, or
 * the client went away).
 */
function streamSpan(res: ServerResponse, span: ByteSpan, source: SpanSource, onFirst: () => void): Promise<boolean> {
  const { demand$, request } = createDemand();
  return new Promise<boolean>((resolve) => {
    let backedUp = false;
    let completed = false;
    let done = false;
    const finish = (ok: boolean) => {
      done = true;
      res.off('drain', onDrain).off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => {
      if (!backedUp || done) return; // a drain of framing written by onFirst is not this span's
      backedUp = false;
      if (completed)
        finish(true); // the span's last chunk is in the socket now
      else request(1);
    };
    const onClose = () => {
      sub.unsubscribe(); // cancels reads in flight and releases everything the pipeline held
      finish(false);
    };
    res.on('drain', onDrain).once('close', onClose);
    const sub = source(span, demand$).subscribe({
      next: (chunk) => {
        onFirst();
        if (res.write(chunk)) request(1);
        else backedUp = true;
      },
      error: (err) => {
        finish(false);
        sendError(res, err); // before the headers: a coded answer; after: this cuts the connection
      },
      // The next part waits until the socket took this one's last chunk (the bound holds across parts).
      complete: () => {
        completed = true;
        if (!backedUp) finish(true);
      },
    });
    if (res.destroyed && !done) onClose();
    else if (!done) request(1);
  });
}

function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain).off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain).once('close', onClose);
  });
}
