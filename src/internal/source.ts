import { Observable, isObservable } from 'rxjs';
import { Readable } from 'node:stream';
import { BadRequestError, SourceOverflowError } from '../errors.js';

/** Anything an upload can read bytes from. */
export type ByteSource =
  Uint8Array | Readable | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array> | Observable<Uint8Array>;

/**
 * Normalizes a source to a pull-based async iterable. Everything but an Observable is pulled
 * only as fast as the consumer asks; an Observable cannot be paused, so it is buffered up to
 * `observableLimit` bytes and then fails with SourceOverflowError rather than eat memory.
 */
export function toByteIterable(source: ByteSource, observableLimit: number): AsyncIterable<Uint8Array> {
  if (source instanceof Uint8Array) return once(source);
  if (typeof source !== 'object' || source === null) {
    throw new BadRequestError('source', `must be bytes, a stream or an iterable (got ${source === null ? 'null' : typeof source})`);
  }
  if (isObservable(source)) return fromObservable(source, observableLimit);
  if (typeof (source as ReadableStream).getReader === 'function' && !(source instanceof Readable)) {
    return fromWebStream(source as ReadableStream<Uint8Array>);
  }
  if (Symbol.asyncIterator in source || Symbol.iterator in source) {
    return asBytes(source as AsyncIterable<Uint8Array | string>);
  }
  throw new BadRequestError('source', 'must be a Uint8Array, Readable, ReadableStream, (async) iterable or Observable of bytes');
}

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

const encoder = new TextEncoder();

async function* asBytes(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const piece of source as AsyncIterable<unknown>) {
    if (piece instanceof Uint8Array) yield piece;
    else if (typeof piece === 'string') yield encoder.encode(piece);
    else throw new BadRequestError('source', `yielded ${typeof piece}, expected Uint8Array`);
  }
}

async function* fromWebStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      if (!(value instanceof Uint8Array)) throw new BadRequestError('source', 'ReadableStream yielded a non-Uint8Array');
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

async function* fromObservable(source: Observable<Uint8Array>, limit: number): AsyncGenerator<Uint8Array> {
  const queue: Uint8Array[] = [];
  let queued = 0;
  let done = false;
  let failure: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  const sub = source.subscribe({
    next: (v) => {
      if (failure) return;
      queue.push(v);
      queued += v.byteLength;
      if (queued > limit) failure = { err: new SourceOverflowError(limit) };
      notify();
    },
    error: (err) => {
      failure = { err };
      notify();
    },
    complete: () => {
      done = true;
      notify();
    },
  });
  try {
    for (;;) {
      if (failure) throw failure.err;
      const next = queue.shift();
      if (next) {
        queued -= next.byteLength;
        yield next;
      } else if (done) return;
      else await new Promise<void>((r) => (wake = r));
    }
  } finally {
    sub.unsubscribe();
  }
}
