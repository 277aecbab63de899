import type { HeldBytes } from './gauge.js';

/**
 * Room before a slab's data for a protocol frame header: the WebSocket gateway writes its frame
 * header there, so a chunk leaves as one message straight from the slab (no concatenation, and
 * the receiver gets one fragment, not two to join).
 */
export const HEADROOM = 64;
/** One byte past the data: a read of `size + 1` bytes that fills it found an object longer than its size. */
export const TAIL = 1;

/**
 * A chunk buffer on a SharedArrayBuffer: stores read into it, hash threads read it in place (no
 * copy, no transfer), sockets and files write from it. Owned by one transfer at a time.
 */
export class Slab {
  readonly sab: SharedArrayBuffer;
  /** The whole buffer, headroom and tail included. */
  readonly bytes: Buffer;

  constructor(readonly capacity: number) {
    this.sab = new SharedArrayBuffer(HEADROOM + capacity + TAIL);
    this.bytes = Buffer.from(this.sab);
  }

  /** Data bytes [from, to) as a Buffer view (to ≤ capacity + TAIL). */
  data(to: number, from = 0): Buffer {
    return this.bytes.subarray(HEADROOM + from, HEADROOM + to);
  }
}

/**
 * Idle slabs shared by all transfers of the process, by capacity, so a new transfer of a usual
 * chunk size finds warm buffers (a fresh SharedArrayBuffer is zero-filled and page-faulted in).
 * Bounded: beyond `limit` idle bytes the oldest are dropped to the garbage collector.
 */
const cache = { slabs: new Map<number, Slab[]>(), bytes: 0, limit: 128 * 1024 * 1024 };

function fromCache(capacity: number): Slab | undefined {
  const slab = cache.slabs.get(capacity)?.pop();
  if (slab) cache.bytes -= slab.sab.byteLength;
  return slab;
}

function toCache(slab: Slab): void {
  const size = slab.sab.byteLength;
  if (size > cache.limit) return;
  let list = cache.slabs.get(slab.capacity);
  if (!list) cache.slabs.set(slab.capacity, (list = []));
  list.push(slab);
  cache.bytes += size;
  for (const [capacity, slabs] of cache.slabs) {
    while (cache.bytes > cache.limit && slabs.length > 0) cache.bytes -= slabs.shift()!.sab.byteLength;
    if (slabs.length === 0) cache.slabs.delete(capacity);
    if (cache.bytes <= cache.limit) break;
  }
}

/** Idle slab bytes kept for reuse across transfers (for tests and diagnostics). */
export function cachedSlabBytes(): number {
  return cache.bytes;
}

/**
 * One transfer's slabs. What the transfer holds is counted in its gauge from `take` until the
 * slab comes back (`give`) or is abandoned (`forget`): the bound promises are stated in those
 * terms, and the operators' slots keep the number of slabs out at (concurrency + 1).
 *
 * A slab goes back to the pool only when nothing can still read or write it: after its read and
 * hash settled, and after a consumer it was lent to acknowledged it. A slab lent out when the
 * transfer ends is forgotten, never reused: a socket may still be writing from it.
 */
export class SlabPool {
  private readonly idle: Slab[] = [];
  private closed = false;

  constructor(
    readonly capacity: number,
    private readonly gauge?: HeldBytes,
  ) {}

  take(): Slab {
    const slab = this.idle.pop() ?? fromCache(this.capacity) ?? new Slab(this.capacity);
    this.gauge?.add(this.capacity);
    return slab;
  }

  give(slab: Slab): void {
    this.gauge?.release(this.capacity);
    if (this.closed) toCache(slab);
    else this.idle.push(slab);
  }

  /** The slab may still be in use by someone else: stop counting it, never reuse it. */
  forget(_slab: Slab): void {
    this.gauge?.release(this.capacity);
  }

  /** The transfer is over: idle slabs go to the process-wide cache; later `give`s go there too. */
  close(): void {
    this.closed = true;
    for (const slab of this.idle.splice(0)) toCache(slab);
  }
}
