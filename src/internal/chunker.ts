import type { HeldBytes } from './gauge.js';

export interface Chunk {
  index: number;
  data: Uint8Array;
  /** Bytes this chunk keeps alive (its buffer), counted in the gauge until released. */
  held: number;
  /** The chunker allocated `data`'s buffer (not a view of the caller's bytes): it may be moved. */
  owned: boolean;
}

/**
 * Cuts a byte stream into `chunkSize` pieces, pulling the source only when the next chunk is
 * asked for. Each input byte is copied at most once: a piece that covers a whole chunk is
 * passed on as a view, others are copied into a chunk buffer. Chunks are counted in `gauge`
 * when their buffer is allocated; the consumer releases them.
 */
export async function* chunkBytes(
  source: AsyncIterable<Uint8Array>,
  chunkSize: number,
  gauge: HeldBytes,
  onBytes?: (n: number) => void,
): AsyncGenerator<Chunk> {
  let index = 0;
  let buf: Uint8Array | undefined;
  let filled = 0;
  try {
    for await (const piece of source) {
      onBytes?.(piece.byteLength);
      let off = 0;
      while (off < piece.byteLength) {
        if (filled === 0 && piece.byteLength - off >= chunkSize) {
          gauge.add(chunkSize);
          yield { index: index++, data: piece.subarray(off, off + chunkSize), held: chunkSize, owned: false };
          off += chunkSize;
          continue;
        }
        if (!buf) {
          buf = new Uint8Array(chunkSize);
          gauge.add(chunkSize);
        }
        const n = Math.min(chunkSize - filled, piece.byteLength - off);
        buf.set(piece.subarray(off, off + n), filled);
        filled += n;
        off += n;
        if (filled === chunkSize) {
          const data = buf;
          buf = undefined;
          filled = 0;
          yield { index: index++, data, held: chunkSize, owned: true };
        }
      }
    }
    if (buf && filled > 0) {
      const data = buf.subarray(0, filled);
      buf = undefined;
      yield { index: index++, data, held: chunkSize, owned: true };
    }
  } finally {
    // A partly filled buffer of an abandoned upload is dropped here.
    if (buf) gauge.release(chunkSize);
  }
}
