import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Store } from '../engine/store.js';
import { createDemand } from '../operators/demand.js';
import { downloadBound, type TransferBudget } from './budget.js';
import { contentDisposition, etagMatches, parseRangeHeader, sendError } from './http-util.js';

/**
 * GET/HEAD /v1/files/:id. Bytes flow through the engine's ordered pipeline with a credit
 * channel driven by `res.write()`: one credit per chunk, the next one only once the socket
 * accepted the previous chunk (write returned true, or 'drain'). A credit also acknowledges
 * the chunk written before it, so the store's gauge counts every chunk until the socket took
 * it: held ≤ (downloadConcurrency read ahead + 1 being written) × chunkSize, plus less than the
 * response's highWaterMark and what the kernel socket buffers hold (not counted, not ours).
 * That bound is reserved in the server's budget before the headers go out (503 `busy` if it
 * does not fit) and given back when the response closes (sent, failed or abandoned).
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
  let range: { start: number; end: number } | undefined;
  try {
    range = parseRangeHeader(rangeHeader, manifest.size);
  } catch (err) {
    sendError(res, err, common);
    return;
  }
  const length = range ? range.end - range.start + 1 : manifest.size;
  if (budget && req.method !== 'HEAD' && length > 0) {
    const reservation = budget.reserve(downloadBound(manifest, range, store.options.downloadConcurrency)); // throws busy → 503
    res.once('close', reservation.release);
    if (res.destroyed) reservation.release(); // 'close' may have gone by already
  }
  res.writeHead(range ? 206 : 200, {
    ...common,
    'Content-Type': 'application/octet-stream',
    'Content-Length': length,
    'Content-Disposition': contentDisposition(manifest.name),
    ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${manifest.size}` } : {}),
  });
  if (req.method === 'HEAD' || length === 0 || res.destroyed) {
    res.end();
    return;
  }

  const { demand$, request } = createDemand();
  await new Promise<void>((resolve) => {
    const onDrain = () => request(1);
    const sub = store.downloadManifest(manifest, { range, demand: demand$, signal }).subscribe({
      next: (chunk) => {
        if (res.write(chunk)) request(1);
        else res.once('drain', onDrain);
      },
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
    // and releases everything the pipeline held.
    res.once('close', () => {
      res.off('drain', onDrain);
      sub.unsubscribe();
      resolve();
    });
    request(1);
  });
}
