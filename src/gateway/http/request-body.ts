import type { IncomingMessage } from 'node:http';
import { AbortError, ChunkstreamError, TimeoutError } from '../../errors.js';

/**
 * The body as a pull-based iterable. Unlike a Readable's own async iterator, stopping early
 * (the engine failed: too large, storage error) does not destroy the request: its socket is
 * also the response's, and the JSON error must still reach the client. A PUT of /v1/files and a
 * tus PATCH both read their bodies with it.
 */
export async function* bodyOf(req: IncomingMessage, idleTimeoutMs: number): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = req.read() as Buffer | null;
    if (chunk !== null) {
      yield chunk;
      continue;
    }
    if (req.readableEnded) return;
    if (req.destroyed) throw new AbortError('the client closed the request before the body ended');
    // Only time spent waiting for the client counts: a store that is slow to pull is not idle.
    await new Promise<void>((resolve, reject) => {
      const settle = (err?: Error) => {
        clearTimeout(timer);
        req.off('readable', done).off('end', done).off('close', done).off('error', fail);
        if (err) reject(err);
        else resolve();
      };
      const done = () => settle();
      const fail = (err: Error) =>
        settle(err instanceof ChunkstreamError ? err : new AbortError(`request body: ${err.message}`, { cause: err }));
      const timer = setTimeout(
        () => fail(new TimeoutError(`request body: no data for ${idleTimeoutMs} ms (bodyIdleTimeoutMs)`)),
        idleTimeoutMs,
      );
      req.on('readable', done).on('end', done).on('close', done).on('error', fail);
    });
  }
}
