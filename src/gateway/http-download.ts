import { planDownload } from '../engine/plan.js';
import { planFileResponse } from './http-file-response.js';
import { bodyReads, sendBody, type SpanSource } from './http-body.js';
import { requestMeter } from './access-log.js';
import type { RequestContext } from './http-options.js';
import { copiesOnWrite, sendError } from './http-util.js';
import { clientKey } from './client-key.js';
import { TimeoutError } from '../errors.js';

export interface ServeFileOptions {
  /** Cache lifetime of the response (a signed link's remaining validity); default a year. */
  maxAgeS?: number;
}

/**
 * GET/HEAD /v1/files/:id. What to answer (304, 412, 416, 200, 206, multipart) is decided up
 * front by planFileResponse; this reserves the transfer's bound in the server's budget (503
 * `busy` if it does not fit, released when the response closes) and streams the body.
 */
export async function serveFile(
  { store, req, res, signal, budget, sendTimeoutMs }: RequestContext,
  id: string,
  o: ServeFileOptions = {},
): Promise<void> {
  const manifest = await store.manifest(id, { signal });
  const answer = planFileResponse(req.method ?? 'GET', req.headers, manifest, { maxAgeS: o.maxAgeS });
  if (answer.kind === 'not_modified') return void res.writeHead(304, answer.headers).end();
  if (answer.kind === 'error') return sendError(res, answer.error, answer.headers);
  const parts = bodyReads(answer.segments, manifest.chunkSize);
  // Planned once: for the reservation here and for the reads sendBody streams (keyed by the read's span).
  const plans = new Map(parts.flatMap((p) => ('items' in p ? [[p.span, planDownload(manifest, p.span)] as const] : [])));
  if (plans.size > 0) {
    // Reads run one after the other: the largest one's bound is the transfer's.
    const reservation = budget.reserve(
      Math.max(...[...plans.values()].map((p) => p.bound(store.options.downloadConcurrency))),
      clientKey(req),
    ); // busy → 503
    res.once('close', reservation.release);
    if (res.destroyed) reservation.release(); // 'close' may have gone by already
    // A reader that takes nothing for sendTimeoutMs (no write completes, nothing read) would hold
    // its reservation for as long as it likes: end it (nginx's send_timeout). After the answer,
    // the server's keep-alive timeout takes the socket over again.
    res.setTimeout(sendTimeoutMs, () =>
      res.destroy(new TimeoutError(`response: the client took nothing for ${sendTimeoutMs} ms (sendTimeoutMs)`)),
    );
  }
  // Lent buffers go straight to a kernel socket; an in-process one gets copies (it may keep references).
  const lend = copiesOnWrite(res.socket);
  const meter = requestMeter(req); // the protocol label and the access log's bytes
  const source: SpanSource = (span, demand) =>
    store.read(plans.get(span) ?? planDownload(manifest, span), { demand, signal, lend, readOnly: true, meter });
  await sendBody(res, answer.status, answer.headers, parts, source);
}
