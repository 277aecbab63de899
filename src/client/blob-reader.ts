import { BadRequestError } from '../errors.js';

/**
 * Pull-based reading: each call gives a new buffer of `headroom` free bytes followed by at most
 * `max` bytes of the source (so a frame header goes in front without another copy), null at the end.
 */
export interface ByteReader {
  read(max: number, headroom: number): Promise<Uint8Array | null>;
  close(): void;
}

/**
 * Reads a Blob (a File) from `offset` as one stream, each read filling a new buffer of
 * `headroom` + up to `max` bytes with the data after the headroom: the frame header is written
 * in front of it and the payload is never copied again.
 *
 * It used to be `blob.slice(a, b).arrayBuffer()` per 256 KiB piece, then a copy into the frame:
 * each slice is a round trip to the browser's blob store, and in Chromium that alone kept a
 * WebSocket upload near 50–70 MB/s. Where `Blob.stream()` is a byte stream (Chromium, Firefox)
 * a BYOB reader has the browser write straight into the frame's buffer; elsewhere (Node's Blob)
 * each chunk of the stream is copied in once.
 */
export function blobReader(blob: Blob, offset: number): ByteReader {
  let pos = Math.min(offset, blob.size);
  let stream: ReadableStream<Uint8Array> | undefined;
  let byob: ReadableStreamBYOBReader | undefined;
  let plain: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let rest: Uint8Array | undefined; // plain reader: what the last chunk had beyond the last read
  let closed = false;

  const open = () => {
    stream = blob.slice(pos).stream() as ReadableStream<Uint8Array>;
    try {
      byob = stream.getReader({ mode: 'byob' });
    } catch {
      plain = stream.getReader(); // not a byte stream
    }
  };

  /** Fills `buf` from `at` to its end; returns the buffer (a BYOB read hands back a new one) and the bytes now in it. */
  const fill = async (buf: ArrayBuffer, at: number): Promise<[ArrayBuffer, number]> => {
    while (at < buf.byteLength) {
      if (byob) {
        const r = await byob.read(new Uint8Array(buf, at, buf.byteLength - at));
        if (!r.value) throw new Error('the Blob stream was cancelled');
        buf = r.value.buffer;
        if (r.done) break;
        at += r.value.byteLength;
      } else {
        if (!rest || rest.byteLength === 0) {
          const r = await plain!.read();
          if (r.done) break;
          rest = r.value;
        }
        const n = Math.min(rest.byteLength, buf.byteLength - at);
        new Uint8Array(buf, at, n).set(rest.subarray(0, n));
        rest = rest.subarray(n);
        at += n;
      }
    }
    return [buf, at];
  };

  return {
    async read(max, headroom) {
      if (closed || pos >= blob.size) return null;
      if (!stream) open();
      const want = Math.min(max, blob.size - pos);
      const [buf, end] = await fill(new ArrayBuffer(headroom + want), headroom);
      const got = end - headroom;
      // A file that shrank since it was picked: say so, rather than send a short upload.
      if (got < want) throw new BadRequestError('source', `the Blob ended at ${pos + got} bytes, short of its size ${blob.size}`);
      pos += got;
      return new Uint8Array(buf, 0, end);
    },
    close() {
      if (closed) return;
      closed = true;
      void (byob ?? plain)?.cancel().catch(() => undefined);
    },
  };
}
