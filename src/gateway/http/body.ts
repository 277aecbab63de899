import type { ServerResponse } from 'node:http';
import type { Observable } from 'rxjs';
import { createDemand } from '../../operators/demand.js';
import type { ByteSpan } from '../../engine/plan.js';
import type { BodySegment } from './multipart.js';
import { sendError } from './respond.js';

/** Reads one read's span of the file, one chunk per credit on `demand` (each chunk's bytes as delivered: the span's edges sliced). */
export type ReadSource<R extends BodyRead> = (read: R, demand: Observable<number>) => Observable<Uint8Array>;

/**
 * One read of the store: spans of the body whose chunks touch or follow each other (several
 * ranges inside one chunk, or a range ending in the chunk where the next begins), with the
 * framing between them. Every chunk in [start, end] holds a byte of some span, so the read costs
 * exactly the chunks the parts need, each read and verified once.
 */
export interface BodyRead {
  span: ByteSpan;
  items: BodySegment[];
}

/** Segments → framing to write and reads to stream, in body order. */
export function bodyReads(segments: readonly BodySegment[], chunkSize: number): (BodySegment | BodyRead)[] {
  const out: (BodySegment | BodyRead)[] = [];
  let open: BodyRead | undefined;
  let between: BodySegment[] = []; // framing since the open read's last span
  for (const s of segments) {
    if ('bytes' in s) {
      between.push(s);
      continue;
    }
    const joins = open && Math.floor(s.span.start / chunkSize) <= Math.floor(open.span.end / chunkSize) + 1 && s.span.start > open.span.end;
    if (open && joins) {
      open.items.push(...between, s);
      open.span = { start: open.span.start, end: s.span.end };
    } else {
      out.push(...between);
      open = { span: { ...s.span }, items: [s] };
      out.push(open);
    }
    between = [];
  }
  out.push(...between);
  return out;
}

/**
 * Writes the status line and headers only when the first chunk of the file has arrived
 * (verified): a chunk that fails before it gives a coded error (500 `integrity`) instead of a
 * 200 cut off after zero bytes. Framing before the first read waits with the headers.
 */
export async function sendBody<R extends BodyRead>(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  parts: readonly (BodySegment | R)[],
  source: ReadSource<R>,
): Promise<void> {
  let held: Buffer[] | undefined = [];
  const start = () => {
    if (!held) return;
    res.writeHead(status, headers);
    for (const b of held) res.write(b);
    held = undefined;
  };
  if (!parts.some((p) => 'items' in p)) return void (start(), res.end());
  for (const part of parts) {
    if (res.destroyed) return;
    if ('items' in part) {
      if (!(await streamRead(res, part, source, start))) return;
    } else if ('bytes' in part) {
      if (held) held.push(part.bytes);
      else if (!(await written(res, part.bytes))) return;
    }
  }
  res.end();
}

/**
 * The engine's ordered pipeline with a credit channel driven by the socket: one credit per
 * chunk, the next one only once the socket wrote every piece of the previous chunk (their write
 * callbacks). A credit also acknowledges the chunk written before it — the engine then reuses its
 * buffer — so the store's gauge counts every chunk until the socket took it: held ≤
 * (downloadConcurrency read ahead + 1 being written) × chunkSize, plus what the kernel socket
 * buffers hold (not counted, not ours). Each chunk is cut into the parts it carries, with the
 * framing between them. Resolves once the read's last chunk was written (so the next read
 * starts within the same bound), false when the response is over (failed, or the client left).
 */
function streamRead<R extends BodyRead>(res: ServerResponse, read: R, source: ReadSource<R>, onFirst: () => void): Promise<boolean> {
  const { demand$, request } = createDemand();
  const items = read.items;
  return new Promise<boolean>((resolve) => {
    let writing = 0; // pieces handed to the socket and not yet written
    let completed = false;
    let done = false;
    let item = 0; // the next item of `items` to write
    let at = read.span.start; // file offset of the next chunk's first byte
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
    const chunkWritten = () => {
      if (done) return;
      if (completed && writing === 0) finish(true);
      else request(1);
    };
    res.once('close', onClose);
    const sub = source(read, demand$).subscribe({
      next: (chunk) => {
        onFirst();
        const from = at;
        const to = (at += chunk.byteLength);
        let pending = 0;
        // The write callback, not write()'s return value: a lent buffer is reused once
        // acknowledged, so it must have left for the socket, not merely been queued.
        const wrote = (err?: Error | null) => {
          writing--;
          if (!err && --pending === 0) chunkWritten();
        };
        const write = (b: Uint8Array) => (pending++, writing++, res.write(b, wrote));
        while (item < items.length) {
          const it = items[item]!;
          if ('bytes' in it) {
            write(it.bytes);
            item++;
            continue;
          }
          const { start, end } = it.span;
          if (start >= to) break; // begins in a later chunk
          const a = Math.max(start, from) - from;
          const b = Math.min(end + 1, to) - from;
          if (b > a) write(a === 0 && b === chunk.byteLength ? chunk : chunk.subarray(a, b));
          if (end + 1 > to) break; // goes on in the next chunk
          item++;
        }
        if (pending === 0) chunkWritten(); // nothing of it is sent (cannot happen for a read's chunks)
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
