import { tap } from 'rxjs';
import { planDownload } from '../../engine/plan.js';
import { planFileResponse } from '../http/file-response.js';
import { bodyReads, sendBody } from '../http/body.js';
import type { RequestContext } from '../handler-options.js';
import { copiesOnWrite } from '../lending.js';
import { sendError } from '../http/respond.js';
import { TimeoutError } from '../../errors.js';

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
  { store, req, res, signal, budget, sendTimeoutMs, meter, client }: RequestContext,
  id: string,
  o: ServeFileOptions = {},
): Promise<void> {
  const manifest = await store.manifest(id, { signal });
  const answer = planFileResponse(req.method ?? 'GET', req.headers, manifest, { maxAgeS: o.maxAgeS });
  if (answer.kind === 'not_modified') return void res.writeHead(304, answer.headers).end();
  if (answer.kind === 'error') return sendError(res, answer.error, answer.headers);
  // Each read planned once: for the reservation here and for the read sendBody streams.
  const parts = bodyReads(answer.segments, manifest.chunkSize).map((p) =>
    'items' in p ? { ...p, plan: planDownload(manifest, p.span) } : p,
  );
  const plans = parts.flatMap((p) => ('plan' in p ? [p.plan] : []));
  let shrink: ((delivered: number) => void) | undefined;
  if (plans.length > 0) {
    // Reads run one after the other: the largest one's bound is the transfer's.
    const reservation = budget.reserve(Math.max(...plans.map((p) => p.bound(store.options.downloadConcurrency))), client); // busy → 503
    res.once('close', reservation.release);
    if (res.destroyed) reservation.release(); // 'close' may have gone by already
    // A reader that takes nothing for sendTimeoutMs (no write completes, nothing read) would hold
    // its reservation for as long as it likes: end it (nginx's send_timeout). After the answer,
    // the server's keep-alive timeout takes the socket over again.
    const only = plans.length === 1 ? plans[0]! : undefined;
    // One read: near its end it holds at most the chunk being written and those not yet delivered.
    if (only)
      shrink = (k) => reservation.shrink?.(Math.min(store.options.downloadConcurrency + 1, only.chunks - k + 1) * manifest.chunkSize);
    res.setTimeout(sendTimeoutMs, () =>
      res.destroy(new TimeoutError(`response: the client took nothing for ${sendTimeoutMs} ms (sendTimeoutMs)`)),
    );
  }
  // Lent buffers go straight to a kernel socket; an in-process one gets copies (it may keep references).
  const lend = copiesOnWrite(res.socket);
  let delivered = 0;
  await sendBody(res, answer.status, answer.headers, parts, (read, demand) =>
    store.read(read.plan, { demand, signal, lend, readOnly: true, meter }).pipe(tap(() => shrink?.(++delivered))),
  );
}
