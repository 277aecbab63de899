import { MalformedMessageError } from './errors.js';

/**
 * Binary frames carry file bytes behind a fixed 16-byte big-endian header:
 *
 *   offset  size  field
 *   0       1     version   (1)
 *   1       1     type      (1 = upload data, client → server; 2 = download data, 3 = download
 *                            chunk with its digest, server → client)
 *   2       2     reserved  (0)
 *   4       4     stream    (u32, 1 … 2^32-1)
 *   8       8     offset    (u64: file offset of the first payload byte, ≤ 2^53-1)
 *   16      32    digest    (type 3 only: SHA-256 of the whole chunk the payload belongs to)
 *   16|48   …     payload
 *
 * Type 3 (asked for with `digests: true` in `download`) lets a client verify each whole chunk as it
 * arrives, in parallel and before delivering it, instead of one sequential hash of the whole file.
 */
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 16;
export const DIGEST_BYTES = 32;
export const FrameType = { UPLOAD_DATA: 1, DOWNLOAD_DATA: 2, DOWNLOAD_CHUNK: 3 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  type: FrameType;
  stream: number;
  offset: number;
  /** Type 3: SHA-256 of the chunk the payload is (a slice of). */
  digest?: Uint8Array;
  payload: Uint8Array;
}

/** Bytes before the payload in a frame of `type`. */
export function frameHeaderBytes(type: FrameType): number {
  return type === FrameType.DOWNLOAD_CHUNK ? FRAME_HEADER_BYTES + DIGEST_BYTES : FRAME_HEADER_BYTES;
}

/**
 * Writes a frame header into `frame` at 0: the payload follows it in the same buffer (the gateway
 * builds frames in the headroom of the slab the chunk was read into: no copy of the payload).
 */
export function writeFrameHeader(frame: Uint8Array, type: FrameType, stream: number, offset: number, digest?: Uint8Array): void {
  const view = new DataView(frame.buffer, frame.byteOffset, FRAME_HEADER_BYTES);
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, type);
  view.setUint16(2, 0);
  view.setUint32(4, stream);
  // Two u32 halves: exact for every safe integer, no BigInt needed (older browsers).
  view.setUint32(8, Math.floor(offset / TWO_32));
  view.setUint32(12, offset % TWO_32);
  if (type === FrameType.DOWNLOAD_CHUNK) {
    if (digest?.byteLength !== DIGEST_BYTES) throw new RangeError('a download chunk frame needs a 32-byte digest');
    frame.set(digest, FRAME_HEADER_BYTES);
  }
}

const TWO_32 = 2 ** 32;

/** A 16-byte header alone (types 1 and 2). */
export function encodeFrameHeader(type: FrameType, stream: number, offset: number): Uint8Array {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  writeFrameHeader(header, type, stream, offset);
  return header;
}

/** Header and payload in one new buffer (one copy of the payload). */
export function encodeFrame(type: FrameType, stream: number, offset: number, payload: Uint8Array, digest?: Uint8Array): Uint8Array {
  const head = frameHeaderBytes(type);
  const frame = new Uint8Array(head + payload.byteLength);
  writeFrameHeader(frame, type, stream, offset, digest);
  frame.set(payload, head);
  return frame;
}

/** Parses a binary frame; the payload is a view (no copy). Throws MalformedMessageError naming the field. */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.byteLength < FRAME_HEADER_BYTES) {
    throw new MalformedMessageError(
      'frame',
      `binary frame of ${bytes.byteLength} bytes is shorter than the ${FRAME_HEADER_BYTES}-byte header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER_BYTES);
  const version = view.getUint8(0);
  if (version !== FRAME_VERSION)
    throw new MalformedMessageError('frame.version', `unsupported frame version ${version} (expected ${FRAME_VERSION})`);
  const type = view.getUint8(1);
  if (type !== FrameType.UPLOAD_DATA && type !== FrameType.DOWNLOAD_DATA && type !== FrameType.DOWNLOAD_CHUNK) {
    throw new MalformedMessageError('frame.type', `unknown frame type ${type}`);
  }
  if (view.getUint16(2) !== 0) throw new MalformedMessageError('frame.reserved', 'reserved bytes 2-3 must be 0');
  const stream = view.getUint32(4);
  if (stream === 0) throw new MalformedMessageError('frame.stream', 'stream id 0 is reserved');
  const high = view.getUint32(8);
  if (high >= 2 ** 21) throw new MalformedMessageError('frame.offset', 'offset exceeds 2^53-1');
  const offset = high * TWO_32 + view.getUint32(12);
  if (type !== FrameType.DOWNLOAD_CHUNK) return { type, stream, offset, payload: bytes.subarray(FRAME_HEADER_BYTES) };
  const head = FRAME_HEADER_BYTES + DIGEST_BYTES;
  if (bytes.byteLength < head)
    throw new MalformedMessageError('frame', `chunk frame of ${bytes.byteLength} bytes is shorter than its ${head}-byte header`);
  return { type, stream, offset, digest: bytes.subarray(FRAME_HEADER_BYTES, head), payload: bytes.subarray(head) };
}
