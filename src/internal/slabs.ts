import type { HeldBytes } from './gauge.js';
import { dropped } from './reclaim.js';

/**
 * Room before a slab's data for a protocol frame header: the WebSocket gateway writes its frame
 * header there, so a chunk leaves as one message straight from the slab (no concatenation, and
 * the receiver gets one fragment, not two to join).
 */
export const HEADROOM = 64;
/** One byte past the data: a read of `size + 1` bytes that fills it found an object longer than its size. */
export const TAIL = 1;

/**
 * The least a slab's SharedArrayBuffer reserves of address space: above glibc's largest dynamic
 * mmap threshold (32 MiB on 64-bit), so every slab is a mapping of its own and its free an
 * munmap. A smaller one (4 MiB + 65) is first mmap'd, but its free raises the threshold and the
 * next ones come from the heap, where a few live slabs pin every freed one below them: measured
 * (200 slabs, half freed each round, then all) 1,447 MB resident after all were freed, against 47
 * MB with this floor. Only the pages a slab's data touches are resident (calloc does not clear a
 * fresh mapping), so the rest costs address space, not memory.
 */
export const SLAB_MAPPING_BYTES = 33 * 1024 * 1024;

/**
 * A chunk buffer on a SharedArrayBuffer: stores read into it, hash threads read it in place (no
 * copy, no transfer), sockets and files write from it. Owned by one transfer at a time.
 */
export class Slab {
  readonly sab: SharedArrayBuffer;
  /** The whole buffer, headroom and tail included. */
  readonly bytes: Buffer;
  /** The bytes it can hold resident: headroom, data and tail (what caches and the reclaim count). */
  readonly footprint: number;

  constructor(readonly capacity: number) {
    this.footprint = HEADROOM + capacity + TAIL;
    this.sab = new SharedArrayBuffer(Math.max(this.footprint, SLAB_MAPPING_BYTES));
    this.bytes = Buffer.from(this.sab, 0, this.footprint);
  }

  /** Data bytes [from, to) as a Buffer view (to ≤ capacity + TAIL). */
  data(to: number, from = 0): Buffer {
    return this.bytes.subarray(HEADROOM + from, HEADROOM + to);
  }
}

/**
 * Idle slabs shared by all transfers of the process, by capacity, so a new transfer of a usual
 * chunk size finds warm buffers (a fresh SharedArrayBuffer is zero-filled and page-faulted in).
 * Bounded: beyond `limit` idle bytes the oldest are dropped; after `idleMs` without use all are
 * dropped, so a server gives its memory back after load (reclaim.ts makes the drop real).
 */
export const SLAB_CACHE_BYTES = 128 * 1024 * 1024;
export const SLAB_CACHE_IDLE_MS = 10_000;
const cache = { slabs: new Map<number, Slab[]>(), bytes: 0, limit: SLAB_CACHE_BYTES, idle: undefined as NodeJS.Timeout | undefined };

const drop = (slab: Slab) => dropped(slab.sab, slab.footprint);

function trimIdle(): void {
  for (const slabs of cache.slabs.values()) slabs.forEach(drop);
  cache.slabs.clear();
  cache.bytes = 0;
}

function fromCache(capacity: number): Slab | undefined {
  const slab = cache.slabs.get(capacity)?.pop();
  if (slab) cache.bytes -= slab.footprint;
  return slab;
}

function toCache(slab: Slab): void {
  const size = slab.footprint;
  if (size > cache.limit) return drop(slab);
  clearTimeout(cache.idle);
  cache.idle = setTimeout(trimIdle, SLAB_CACHE_IDLE_MS).unref();
  let list = cache.slabs.get(slab.capacity);
  if (!list) cache.slabs.set(slab.capacity, (list = []));
  list.push(slab);
  cache.bytes += size;
  for (const [capacity, slabs] of cache.slabs) {
    while (cache.bytes > cache.limit && slabs.length > 0) {
      const old = slabs.shift()!;
      cache.bytes -= old.footprint;
      drop(old);
    }
    if (slabs.length === 0) cache.slabs.delete(capacity);
    if (cache.bytes <= cache.limit) break;
  }
}

/** A slab of `capacity` for a holder that is not a transfer (the chunk cache): warm from the cache if one idles there. */
export function takeSlab(capacity: number): Slab {
  return fromCache(capacity) ?? new Slab(capacity);
}

/** Gives back a slab nothing can still read or write: reused by the next transfer (or dropped beyond the cache's limit). */
export function retireSlab(slab: Slab): void {
  toCache(slab);
}

/** Drops a slab someone may still read (a socket writing from it): never reused, collected once its user lets go. */
export function dropSlab(slab: Slab): void {
  drop(slab);
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

  /** The slab now belongs to someone else (the chunk cache): stop counting it, never reuse it here. */
  handOver(_slab: Slab): void {
    this.gauge?.release(this.capacity);
  }

  /** The slab may still be in use by someone else: stop counting it, never reuse it. */
  forget(slab: Slab): void {
    this.gauge?.release(this.capacity);
    drop(slab); // garbage once its user lets go: the trailing collection finds it
  }

  /** The transfer is over: idle slabs go to the process-wide cache; later `give`s go there too. */
  close(): void {
    this.closed = true;
    for (const slab of this.idle.splice(0)) toCache(slab);
  }
}
