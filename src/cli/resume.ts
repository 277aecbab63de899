import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { InternalError } from '../errors.js';

/** Re-requests of one download after the connection was cut without any new byte in between. */
const MAX_STALLED = 2;
/** Re-requests of one download in all. */
const MAX_RESUMES = 10;
/** How long a re-request may wait for its response to begin. */
const REOPEN_TIMEOUT_MS = 30_000;
/**
 * A re-request the server did not take (it is restarting: connection refused or reset, 503) is
 * tried again after 100 ms × 2^n, this many times, as `put --server` redials (the SDK's
 * reconnectAttempts): a server restart is ridden out, a server that stays down is not waited for.
 */
const REDIAL_ATTEMPTS = 5;
const REDIAL_DELAY_MS = 100;
const TRANSIENT = new Set(['connection_lost', 'busy', 'storage']);

/**
 * A response body of `length` bytes that continues where it was cut: on a connection that ends
 * early, `reopen(received)` asks for the rest (a Range from that offset, with If-Range) and the
 * bytes go on. Besides riding out a dropped connection this is how a client learns why a
 * download stopped: the server cuts a response when a chunk fails verification mid-way (the
 * headers are gone, there is no other signal), and the resumed request then starts at that
 * chunk, which the server checks before answering: a coded 500 `integrity`, which `reopen`
 * rejects with and this stream fails with.
 */
export function resumable(first: IncomingMessage, length: number, reopen: (received: number) => Promise<IncomingMessage>): Readable {
  let current = first;
  let received = 0;
  let stalled = 0;
  let resumes = 0;
  let sinceOpen = 0;
  let reopening = false;

  const out = new Readable({
    read: () => void current.resume(),
    destroy: (err, cb) => {
      current.destroy();
      cb(err);
    },
  });

  const cut = (err: Error) => {
    if (reopening || out.destroyed) return;
    detach(current);
    current.destroy();
    stalled = sinceOpen > 0 ? 0 : stalled + 1;
    if (stalled > MAX_STALLED || ++resumes > MAX_RESUMES) return void out.destroy(err);
    reopening = true;
    redial(
      () => reopen(received),
      () => out.destroyed,
    ).then(
      (res) => {
        reopening = false;
        if (out.destroyed) return void res.destroy();
        attach(res);
      },
      (e: unknown) => {
        reopening = false;
        out.destroy(e as Error);
      },
    );
  };
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    sinceOpen += chunk.length;
    if (!out.push(chunk)) current.pause();
  };
  const onEnd = () =>
    received >= length ? (detach(current), out.push(null)) : cut(new Error(`the response ended after ${received} of ${length} bytes`));
  const onError = (err: Error) => cut(err);
  const onClose = () => {
    if (received < length) cut(Object.assign(new Error('the connection closed before the body ended'), { code: 'ECONNRESET' }));
  };
  const attach = (res: IncomingMessage) => {
    current = res;
    sinceOpen = 0;
    res.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
  };
  const detach = (res: IncomingMessage) => {
    res.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    res.on('error', () => undefined); // a late reset of a response we left must not crash us
  };
  // Without a length or an ETag there is nothing to check a continuation against.
  if (!Number.isSafeInteger(length) || !first.headers.etag) return first;
  attach(first);
  return out;
}

/** `reopen()`, again after a backoff while the server is not taking requests (see REDIAL_ATTEMPTS). */
async function redial(reopen: () => Promise<IncomingMessage>, gone: () => boolean): Promise<IncomingMessage> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await withTimeout(reopen());
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code;
      if (attempt >= REDIAL_ATTEMPTS || typeof code !== 'string' || !TRANSIENT.has(code) || gone()) throw err;
      await sleep(REDIAL_DELAY_MS * 2 ** attempt);
      if (gone()) throw err;
    }
  }
}

/** A server that accepts the connection but never answers must not hang the command. */
function withTimeout(answer: Promise<IncomingMessage>): Promise<IncomingMessage> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    answer,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`no answer within ${REOPEN_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })),
        REOPEN_TIMEOUT_MS,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

function span(first: IncomingMessage, received: number): { start: number; end: number } {
  const m = /^bytes (\d+)-(\d+)\//.exec(String(first.headers['content-range'] ?? ''));
  const start = Number(m?.[1] ?? 0) + received;
  return { start, end: m ? Number(m[2]) : Number(first.headers['content-length']) - 1 };
}

/** The request headers for the rest of `first`'s body: the same bytes (If-Range: its ETag) from `received` on. */
export function resumeHeaders(first: IncomingMessage, received: number): Record<string, string> {
  const { start, end } = span(first, received);
  return { Range: `bytes=${start}-${end}`, 'If-Range': String(first.headers.etag ?? '') };
}

/** `res` if it is exactly the rest asked for by resumeHeaders, else an error (it is destroyed). */
export function resumed(res: IncomingMessage, first: IncomingMessage, received: number): IncomingMessage {
  const { start, end } = span(first, received);
  if (res.statusCode === 206 && String(res.headers['content-range']).startsWith(`bytes ${start}-${end}/`)) return res;
  res.destroy();
  throw new InternalError(`resuming at byte ${start}, the server answered ${res.statusCode} instead of that range`);
}
