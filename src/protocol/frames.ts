import { MalformedMessageError } from './errors.js';

/**
 * Binary frames carry file bytes behind a fixed 16-byte big-endian header:
 *
 *   offset  size  field
 *   0       1     version   (1)
 *   1       1     type      (1 = upload data, client → server; 2 = download data, server → client)
 *   2       2     reserved  (0)
 *   4       4     stream    (u32, 1 … 2^32-1)
 *   8       8     offset    (u64: file offset of the first payload byte, ≤ 2^53-1)
 *   16      …     payload
 */
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 16;
export const FrameType = { UPLOAD_DATA: 1, DOWNLOAD_DATA: 2 } as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

export interface Frame {
  type: FrameType;
  stream: number;
  offset: number;
  payload: Uint8Array;
}

const TWO_32 = 2 ** 32;

export function encodeFrameHeader(type: FrameType, stream: number, offset: number): Uint8Array {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint8(0, FRAME_VERSION);
  view.setUint8(1, type);
  view.setUint32(4, stream);
  // Two u32 halves: exact for every safe integer, no BigInt needed (older browsers).
  view.setUint32(8, Math.floor(offset / TWO_32));
  view.setUint32(12, offset % TWO_32);
  return header;
}

/** Header and payload in one buffer (one copy of the payload). */
export function encodeFrame(type: FrameType, stream: number, offset: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.byteLength);
  frame.set(encodeFrameHeader(type, stream, offset), 0);
  frame.set(payload, FRAME_HEADER_BYTES);
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
  if (type !== FrameType.UPLOAD_DATA && type !== FrameType.DOWNLOAD_DATA)
    throw new MalformedMessageError('frame.type', `unknown frame type ${type}`);
  if (view.getUint16(2) !== 0) throw new MalformedMessageError('frame.reserved', 'reserved bytes 2-3 must be 0');
  const stream = view.getUint32(4);
  if (stream === 0) throw new MalformedMessageError('frame.stream', 'stream id 0 is reserved');
  const high = view.getUint32(8);
  if (high >= 2 ** 21) throw new MalformedMessageError('frame.offset', 'offset exceeds 2^53-1');
  const offset = high * TWO_32 + view.getUint32(12);
  return { type, stream, offset, payload: bytes.subarray(FRAME_HEADER_BYTES) };
}
