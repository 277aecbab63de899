import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TransferBudget } from '../engine/admission.js';
import { planDownload, type DownloadPlan } from '../engine/plan.js';
import type { Store } from '../engine/store.js';
import { createDemand } from '../operators/demand.js';
import { contentDisposition, copiesOnWrite, etagMatches, parseRangeHeader, sendError } from './http-util.js';

/**
 * GET/HEAD /v1/files/:id. Bytes flow through the engine's ordered pipeline in lent buffers with a
 * credit channel driven by the socket: one credit per chunk, the next one only once the socket
 * wrote the previous chunk (its write callback), which also hands that chunk's buffer back for
 * the next read. So the server holds ≤ (downloadConcurrency read ahead + 1 being written) ×
 * chunkSize, plus what the kernel socket buffers hold (not counted, not ours). That bound is
 * reserved in the server's budget before the headers go out (503 `busy` if it does not fit) and
 * given back when the response closes (sent, failed or abandoned).
 */
export async function serveFile(
  store: Store,
  id: string,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
  budget?: TransferBudget,
): Promise<void> {
  const manifest = await store.manifest(id, { signal });
  const etag = `"${manifest.sha256}"`;
  const common = {
    ETag: etag,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'private, no-cache',
    'Last-Modified': new Date(manifest.created).toUTCString(),
  };
  if (etagMatches(req.headers['if-none-match'], etag)) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  // If-Range with another validator: the client's partial copy is stale, send the whole file.
  const ifRange = req.headers['if-range'];
  const rangeHeader = ifRange === undefined || String(ifRange).trim() === etag ? req.headers.range : undefined;
  let plan: DownloadPlan;
  try {
    plan = planDownload(manifest, parseRangeHeader(rangeHeader, manifest.size));
  } catch (err) {
    sendError(res, err, common);
    return;
  }
  if (budget && req.method !== 'HEAD' && plan.length > 0) {
    const reservation = budget.reserve(plan.bound(store.options.downloadConcurrency)); // throws busy → 503
    res.once('close', reservation.release);
    if (res.destroyed) reservation.release(); // 'close' may have gone by already
  }
  res.writeHead(plan.range ? 206 : 200, {
    ...common,
    'Content-Type': 'application/octet-stream',
    'Content-Length': plan.length,
    'Content-Disposition': contentDisposition(manifest.name),
    ...(plan.range ? { 'Content-Range': `bytes ${plan.start}-${plan.end}/${manifest.size}` } : {}),
  });
  if (req.method === 'HEAD' || plan.length === 0 || res.destroyed) {
    res.end();
    return;
  }
  await sendPlan(store, plan, res, signal);
}

/** Streams a plan's bytes to `res`, one chunk written at a time from the engine's own buffers. */
export function sendPlan(store: Store, plan: DownloadPlan, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const { demand$, request } = createDemand();
  return new Promise<void>((resolve) => {
    // The write callback, not `write()`'s return value: the buffer is reused once acknowledged,
    // so it must have left for the socket, not merely been queued.
    const written = (err?: Error | null) => {
      if (!err) request(1);
    };
    const sub = store.read(plan, { demand: demand$, signal, lend: copiesOnWrite(res.socket) }).subscribe({
      next: (chunk) => void res.write(chunk, written),
      error: (err) => {
        sendError(res, err); // headers are sent: this cuts the connection
        resolve();
      },
      complete: () => {
        res.end();
        resolve();
      },
    });
    // The client went away (or the server is closing): unsubscribing cancels reads in flight
    // and releases everything the pipeline held (a chunk still being written is never reused).
    res.once('close', () => {
      sub.unsubscribe();
      resolve();
    });
    request(1);
  });
}
