import type { ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import { planDownload } from '../engine/plan.js';
import { createDemand } from '../operators/demand.js';
import { planFileResponse } from './http-file-response.js';
import type { BodySegment } from './http-multipart.js';
import type { ByteSpan } from '../protocol/http-ranges.js';
import { requestMeter } from './access-log.js';
import type { RequestContext } from './http-options.js';
import { copiesOnWrite, sendError } from './http-util.js';

/** Reads one span of the file, one chunk per credit on `demand`. Swappable (a multi-range engine read). */
export type SpanSource = (span: ByteSpan, demand: Observable<number>) => Observable<Uint8Array>;

export interface ServeFileOptions {
  /** Cache lifetime of the response (a signed link's remaining validity); default a year. */
  maxAgeS?: number;
}

/**
 * GET/HEAD /v1/files/:id. What to answer (304, 412, 416, 200, 206, multipart) is decided up
 * front by planFileResponse; this reserves the transfer's bound in the server's budget (503
 * `busy` if it does not fit, released when the response closes) and streams the body.
 */
export async function serveFile({ store, req, res, signal, budget }: RequestContext, id: string, o: ServeFileOptions = {}): Promise<void> {
  const manifest = await store.manifest(id, { signal });
  const answer = planFileResponse(req.method ?? 'GET', req.headers, manifest, { maxAgeS: o.maxAgeS });
  if (answer.kind === 'not_modified') return void res.writeHead(304, answer.headers).end();
  if (answer.kind === 'error') return sendError(res, answer.error, answer.headers);
  const plans = answer.spans.map((span) => planDownload(manifest, span));
  if (answer.segments.some((s) => 'span' in s)) {
    // Parts are read one after the other: the largest part's bound is the transfer's.
    const reservation = budget.reserve(Math.max(...plans.map((p) => p.bound(store.options.downloadConcurrency)))); // busy → 503
    res.once('close', reservation.release);
    if (res.destroyed) reservation.release(); // 'close' may have gone by already
  }
  // Lent buffers go straight to a kernel socket; an in-process one gets copies (it may keep references).
  const lend = copiesOnWrite(res.socket);
  const meter = requestMeter(req); // the protocol label and the access log's bytes
  const source: SpanSource = (span, demand) => store.read(planDownload(manifest, span), { demand, signal, lend, meter });
  await sendBody(res, answer.status, answer.headers, answer.segments, source);
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
      else if (!(await written(res, segment.bytes))) return;
    } else if (!(await streamSpan(res, segment.span, source, start))) return;
  }
  res.end();
}

/**
 * The engine's ordered pipeline with a credit channel driven by the socket: one credit per
 * chunk, the next one only once the socket wrote the previous chunk (its write callback). A
 * credit also acknowledges the chunk written before it — the engine then reuses its buffer — so
 * the store's gauge counts every chunk until the socket took it: held ≤ (downloadConcurrency
 * read ahead + 1 being written) × chunkSize, plus what the kernel socket buffers hold (not
 * counted, not ours). Resolves once the span's last chunk was written (so the next part starts
 * within the same bound), false when the response is over (failed, or the client went away).
 */
function streamSpan(res: ServerResponse, span: ByteSpan, source: SpanSource, onFirst: () => void): Promise<boolean> {
  const { demand$, request } = createDemand();
  return new Promise<boolean>((resolve) => {
    let writing = 0; // chunks handed to the socket and not yet written
    let completed = false;
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      res.off('close', onClose);
      resolve(ok);
    };
    const onClose = () => {
      sub.unsubscribe(); // cancels reads in flight and releases everything the pipeline held
      finish(false);
    };
    // The write callback, not write()'s return value: a lent buffer is reused once acknowledged,
    // so it must have left for the socket, not merely been queued.
    const wrote = (err?: Error | null) => {
      writing--;
      if (err || done) return;
      if (completed) finish(true);
      else request(1);
    };
    res.once('close', onClose);
    const sub = source(span, demand$).subscribe({
      next: (chunk) => {
        onFirst();
        writing++;
        res.write(chunk, wrote);
      },
      error: (err) => {
        finish(false);
        sendError(res, err); // before the headers: a coded answer; after: this cuts the connection
      },
      complete: () => {
        completed = true;
        if (writing === 0) finish(true);
      },
    });
    if (res.destroyed && !done) onClose();
    else if (!done) request(1);
  });
}

/** Writes framing bytes; resolves once the socket took them (false if the response closed first). */
function written(res: ServerResponse, bytes: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const onClose = () => resolve(false);
    res.once('close', onClose);
    res.write(bytes, (err) => {
      res.off('close', onClose);
      resolve(!err);
    });
  });
}
