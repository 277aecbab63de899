import { randomBytes } from 'node:crypto';
import type { ByteSpan } from '../../engine/plan.js';

/** The bytes of a body, in order: framing we hold, or a span of the file read from the store. */
export type BodySegment = { bytes: Buffer } | { span: ByteSpan };

export interface MultipartBody {
  /** `multipart/byteranges; boundary=…` */
  contentType: string;
  /** Exact Content-Length of the whole body, known before any byte of the file is read. */
  length: number;
  segments: BodySegment[];
}

/**
 * A `multipart/byteranges` body (RFC 9110 § 14.6) framed like nginx's, which every range client
 * is tested against: each part is `CRLF --boundary CRLF Content-Type CRLF Content-Range CRLF
 * CRLF <bytes>`, and the body ends with `CRLF --boundary-- CRLF`. Pure: the part bytes are
 * references to spans, read later by whatever byte source the caller streams them from.
 * The boundary is 96 random bits: it cannot be chosen to appear in a file's bytes.
 */
export function multipartBody(ranges: readonly ByteSpan[], size: number, partType: string, boundary = newBoundary()): MultipartBody {
  const segments: BodySegment[] = [];
  let length = 0;
  for (const span of ranges) {
    const head = Buffer.from(
      `\r\n--${boundary}\r\nContent-Type: ${partType}\r\nContent-Range: bytes ${span.start}-${span.end}/${size}\r\n\r\n`,
      'latin1',
    );
    segments.push({ bytes: head }, { span });
    length += head.length + span.end - span.start + 1;
  }
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
  segments.push({ bytes: tail });
  length += tail.length;
  return { contentType: `multipart/byteranges; boundary=${boundary}`, length, segments };
}

export function newBoundary(): string {
  return `chunkstream-${randomBytes(12).toString('hex')}`;
}
