import { BadRequestError, RangeNotSatisfiableError } from '../errors.js';
import { fileInfo, type FileInfo, type Manifest } from '../catalog/schema.js';

/** A resolved byte span of a file, inclusive at both ends (like HTTP's `first-last`): the one span type of plans, HTTP ranges and the CLI's --range. */
export interface ByteSpan {
  start: number;
  end: number;
}

/** A requested range: `end` may be left open or lie past the file (resolveRange makes it a ByteSpan). */
export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive (like HTTP); clamped to the file's last byte. */
  end?: number;
}

/**
 * What one download will do, decided before any byte moves: the file, the resolved range, the
 * chunks it reads and the memory it may hold. HTTP, the WebSocket gateway and the CLI all start
 * from a plan, so ranges and chunk spans are computed once, here.
 */
export interface DownloadPlan {
  readonly manifest: Manifest;
  readonly file: FileInfo;
  /** The requested range resolved against the file (inclusive); undefined for the whole file. */
  readonly range: ByteSpan | undefined;
  /** First and last byte delivered (inclusive); `length` is 0 for an empty file. */
  readonly start: number;
  readonly end: number;
  readonly length: number;
  /** Chunk indexes read: first..last, `chunks` of them (0 for an empty file). */
  readonly first: number;
  readonly last: number;
  readonly chunks: number;
  /**
   * Most bytes the download holds when reading `ahead` chunks ahead: ahead + 1 chunks (read ahead
   * plus one being delivered), or only the chunks it covers when they are fewer. What a gateway
   * reserves in the transfer budget before it starts.
   */
  bound(ahead: number): number;
}

/** Resolves a requested range against a size: inclusive [start, end], or throws 416. */
export function resolveRange(size: number, range: ByteRange | undefined): ByteSpan | undefined {
  if (!range) return undefined;
  const { start, end = Number.MAX_SAFE_INTEGER } = range;
  if (!Number.isSafeInteger(start) || start < 0) throw new BadRequestError('range.start', `must be a non-negative integer (got ${start})`);
  if (!Number.isSafeInteger(end) || end < start) throw new BadRequestError('range.end', `must be an integer ≥ range.start (got ${end})`);
  if (start >= size) throw new RangeNotSatisfiableError(size, `range starts at ${start}, file has ${size} bytes`);
  return { start, end: Math.min(end, size - 1) };
}

export function planDownload(manifest: Manifest, requested?: ByteRange): DownloadPlan {
  const range = resolveRange(manifest.size, requested);
  const empty = manifest.size === 0;
  const start = range?.start ?? 0;
  const end = range?.end ?? manifest.size - 1;
  const first = empty ? 0 : Math.floor(start / manifest.chunkSize);
  const last = empty ? -1 : Math.floor(end / manifest.chunkSize);
  return {
    manifest,
    file: fileInfo(manifest),
    range,
    start,
    end,
    length: empty ? 0 : end - start + 1,
    first,
    last,
    chunks: last - first + 1,
    bound(ahead) {
      const held = ahead + 1;
      if (last - first + 1 > held) return held * manifest.chunkSize;
      let sum = 0;
      for (let i = first; i <= last; i++) sum += manifest.chunks[i]?.size ?? manifest.chunkSize;
      return sum;
    },
  };
}
