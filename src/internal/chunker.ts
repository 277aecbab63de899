import type { FileHandle } from 'node:fs/promises';
import type { Slab, SlabPool } from './slabs.js';

export interface SlabChunk {
  /** Index of the chunk in the file. */
  index: number;
  slab: Slab;
  /** Data bytes in the slab. */
  length: number;
  /** The source ended inside this chunk (a file's short last chunk, or a segment's tail). */
  last: boolean;
}

/** Where chunk bytes come from: pieces to copy in (streams, sockets), or a file read in place. */
export type SlabSource = { pieces: AsyncIterable<Uint8Array> } | { file: FileHandle; position: number };

/**
 * Cuts a byte source into chunks of `chunkSize`, each in a slab from `pool`, pulling the source
 * only when the next chunk is asked for. Pieces are copied into the slab once (the one time their
 * bytes cross the event loop); a file is read with positional reads straight into the slab (no
 * copy on this thread at all). `first` continues a slab already holding a chunk's first bytes
 * (a resumed upload's tail). A slab not handed on (the consumer stopped) goes back to the pool.
 */
export async function* slabChunks(
  source: SlabSource,
  pool: SlabPool,
  chunkSize: number,
  index: number,
  first?: { slab: Slab; length: number },
): AsyncGenerator<SlabChunk> {
  let slab = first?.slab;
  let filled = first?.length ?? 0;
  /** Hands on the slab being filled (its end reached, or the source's) and starts afresh. */
  const handOn = (length: number, last: boolean): SlabChunk | undefined => {
    if (!slab) return undefined;
    const chunk = { index: index++, slab, length, last };
    slab = undefined;
    filled = 0;
    return chunk;
  };
  try {
    if ('file' in source) {
      let position = source.position;
      for (;;) {
        slab ??= pool.take();
        const { bytesRead } = await source.file.read(slab.data(chunkSize), filled, chunkSize - filled, position);
        if (bytesRead === 0) break;
        position += bytesRead;
        filled += bytesRead;
        const full = filled === chunkSize && handOn(chunkSize, false);
        if (full) yield full;
      }
    } else {
      for await (const piece of source.pieces) {
        let off = 0;
        while (off < piece.byteLength) {
          slab ??= pool.take();
          const n = Math.min(chunkSize - filled, piece.byteLength - off);
          slab.data(filled + n, filled).set(off === 0 && n === piece.byteLength ? piece : piece.subarray(off, off + n));
          filled += n;
          off += n;
          const full = filled === chunkSize && handOn(chunkSize, false);
          if (full) yield full;
        }
      }
    }
    const end = filled > 0 && handOn(filled, true);
    if (end) yield end;
  } finally {
    if (slab) pool.give(slab);
  }
}
