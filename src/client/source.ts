import { BadRequestError } from '../errors.js';
import { ConnectionLostError } from '../protocol/errors.js';
import { blobReader, type ByteReader } from './blob-reader.js';

/** A byte source the client can send once. */
export type OneShotSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
/**
 * What `client.upload` reads. Bytes in memory, a Blob/File, or a function returning the source
 * from a given offset can be re-read after a reconnect (the upload resumes); a one-shot stream
 * cannot (the upload fails with code `connection_lost` when the connection drops).
 */
export type ClientUploadSource =
  Uint8Array | ArrayBuffer | Blob | OneShotSource | ((offset: number) => Uint8Array | ArrayBuffer | Blob | OneShotSource);

export interface SourcePlan {
  resumable: boolean;
  /** Known total size, sent as `size` so the server checks it. */
  size?: number;
  /** A reader positioned at `offset`. */
  open(offset: number): ByteReader;
}

const encoder = new TextEncoder();

export function planSource(source: ClientUploadSource): SourcePlan {
  if (typeof source === 'function') {
    return { resumable: true, open: (offset) => planSource(checkSource(source(offset))).open(0) };
  }
  const s = checkSource(source);
  if (s instanceof Uint8Array) return { resumable: true, size: s.byteLength, open: (offset) => bytesReader(s, offset) };
  if (typeof Blob !== 'undefined' && s instanceof Blob) return { resumable: true, size: s.size, open: (offset) => blobReader(s, offset) };
  let used = false;
  return {
    resumable: false,
    open(offset) {
      if (used || offset !== 0) {
        throw new ConnectionLostError(
          `cannot resume at offset ${offset}: a one-shot stream cannot be re-read; pass a Uint8Array, a Blob or a function (offset) => source`,
        );
      }
      used = true;
      return streamReader(s as OneShotSource);
    },
  };
}

function checkSource(source: unknown): Uint8Array | Blob | OneShotSource {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Blob !== 'undefined' && source instanceof Blob) return source;
  if (typeof source === 'object' && source !== null) {
    if (typeof (source as ReadableStream).getReader === 'function') return source as ReadableStream<Uint8Array>;
    if (Symbol.asyncIterator in source || Symbol.iterator in source) return source as AsyncIterable<Uint8Array>;
  }
  throw new BadRequestError(
    'source',
    'must be a Uint8Array, ArrayBuffer, Blob, ReadableStream, (async) iterable of Uint8Array, or a function of the offset',
  );
}

/** `piece` behind `headroom` free bytes, in a new buffer: the one copy a frame of it needs. */
function framed(piece: Uint8Array, headroom: number): Uint8Array {
  const out = new Uint8Array(headroom + piece.byteLength);
  out.set(piece, headroom);
  return out;
}

function bytesReader(data: Uint8Array, offset: number): ByteReader {
  let pos = Math.min(offset, data.byteLength);
  return {
    async read(max, headroom) {
      if (pos >= data.byteLength) return null;
      const piece = data.subarray(pos, pos + max);
      pos += piece.byteLength;
      return framed(piece, headroom);
    },
    close() {},
  };
}

/** Reads an iterable or web stream, splitting pieces larger than `max`. */
function streamReader(source: OneShotSource): ByteReader {
  const iterator: AsyncIterator<unknown> | Iterator<unknown> =
    typeof (source as ReadableStream).getReader === 'function'
      ? webIterator(source as ReadableStream<Uint8Array>)
      : Symbol.asyncIterator in source
        ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]()
        : (source as Iterable<unknown>)[Symbol.iterator]();
  let rest: Uint8Array | undefined;
  let done = false;
  return {
    async read(max, headroom) {
      while (!rest || rest.byteLength === 0) {
        if (done) return null;
        const step = await iterator.next();
        if (step.done) {
          done = true;
          return null;
        }
        const v = step.value;
        if (v instanceof Uint8Array) rest = v;
        else if (typeof v === 'string') rest = encoder.encode(v);
        else throw new BadRequestError('source', `yielded ${typeof v}, expected Uint8Array`);
      }
      const piece = rest.subarray(0, max);
      rest = rest.subarray(piece.byteLength);
      return framed(piece, headroom);
    },
    close() {
      if (done) return;
      done = true;
      void Promise.resolve(iterator.return?.()).catch(() => undefined);
    },
  };
}

function webIterator(stream: ReadableStream<Uint8Array>): AsyncIterator<Uint8Array> {
  const reader = stream.getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
    async return() {
      await reader.cancel().catch(() => undefined);
      return { done: true, value: undefined };
    },
  };
}
