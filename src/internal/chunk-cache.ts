import { dropSlab, retireSlab, takeSlab, type Slab } from './slabs.js';

/**
 * `s3fifo` (the default): a small FIFO for chunks seen once, a main FIFO with a second chance for
 * chunks read again, and a ghost list of keys the small queue let go (S3-FIFO, Yang et al., SOSP
 * 2023): one pass over a large file goes through the small queue and leaves the main one, the hot
 * set, alone. `lru` for comparison (bench/cache.bench.ts measures both).
 */
export type CachePolicy = 's3fifo' | 'lru';

/** The policy new caches use: bench/cache.bench.ts switches it to compare them. */
export const cacheSettings: { policy: CachePolicy } = { policy: 's3fifo' };

/** The share of the cache the small (seen once) queue may hold before it gives way. */
const SMALL_SHARE = 0.1;
/** Hits a main-queue chunk banks for second chances (S3-FIFO's 2-bit counter). */
const MAX_FREQ = 3;
/**
 * An unused cache empties after this long, so a server's memory comes back to within 64 MiB of
 * its start within a minute of the load's end (the process bound, docs/architecture.md); a cache
 * that is being read stays whole.
 */
export const CACHE_IDLE_MS = 30_000;

/** A verified chunk in memory: its bytes are copied in once and never written again. */
export interface CachedChunk {
  readonly key: string;
  readonly bytes: Buffer;
}

interface Entry extends CachedChunk {
  readonly slab: Slab;
  /** Bytes it counts against the limit (the slab's resident footprint). */
  readonly weight: number;
  /** Readers holding it right now (a delivery by reference, a copy in progress). */
  pins: number;
  /** Lent to a reader that may go on reading after its stream ended: never reused, only dropped. */
  tainted: boolean;
  /** Out of the cache (evicted, deleted): freed when the last pin goes. */
  gone: boolean;
  freq: number;
  queue: Map<string, Entry>;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Chunks copied in. */
  inserts: number;
  evictions: number;
  /** Bytes held now (≤ limit) and the limit. */
  bytes: number;
  limit: number;
  entries: number;
}

/**
 * A bounded cache of verified chunks, shared by every download of a store. Content-addressed (a
 * chunk's key is the SHA-256 of its bytes), so an entry is never stale; one that gc removed or
 * the quarantine moved aside is deleted by them. Its bytes live in slabs of their own (one
 * mapping each, slabs.ts), so an evicted one gives its memory back; an evicted chunk a reader
 * still holds is freed only when that reader lets go (pins), and nothing ever writes into a
 * cached chunk: readers get it by reference only when they promise to read only.
 */
export class ChunkCache {
  private readonly small = new Map<string, Entry>();
  private readonly main = new Map<string, Entry>();
  /** Keys the small queue evicted, with their weights: read again soon, they go straight to main. */
  private readonly ghost = new Map<string, number>();
  private ghostBytes = 0;
  private smallBytes = 0;
  private mainBytes = 0;
  private lastUse = 0;
  private idle: NodeJS.Timeout | undefined;
  readonly stats: CacheStats;

  constructor(
    readonly limit: number,
    readonly policy: CachePolicy = cacheSettings.policy,
    private readonly idleMs = CACHE_IDLE_MS,
  ) {
    this.stats = { hits: 0, misses: 0, inserts: 0, evictions: 0, bytes: 0, limit, entries: 0 };
  }

  /** The cached chunk of `key` (pinned: give it back with `unpin`), or undefined (a miss). */
  get(key: string, size: number): CachedChunk | undefined {
    const e = this.main.get(key) ?? this.small.get(key);
    if (!e || e.bytes.byteLength !== size) {
      if (this.limit > 0) this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    this.lastUse = Date.now();
    if (this.policy === 'lru') {
      e.queue.delete(key); // most recently used last
      e.queue.set(key, e);
    } else e.freq = Math.min(e.freq + 1, MAX_FREQ);
    e.pins++;
    return e;
  }

  /** A reader let go of a chunk `get` gave it; `mayStillRead`: it may go on reading (a socket still writing from it). */
  unpin(chunk: CachedChunk, mayStillRead = false): void {
    const e = chunk as Entry;
    e.pins--;
    if (mayStillRead) e.tainted = true;
    if (e.gone && e.pins === 0) free(e);
  }

  /**
   * Takes over `slab`, holding a chunk just read and verified in its first `size` data bytes,
   * instead of copying it (the caller's consumer never writes into it): the chunk pinned (give it
   * back with `unpin`), or undefined when it is cached already or does not fit (the slab stays
   * the caller's).
   */
  adopt(key: string, slab: Slab, size: number): CachedChunk | undefined {
    if (this.limit === 0 || slab.footprint > this.limit || this.small.has(key) || this.main.has(key)) return undefined;
    const e = this.insert(key, slab, size);
    e.pins++;
    return e;
  }

  /** Offers a chunk just read and verified; copied in if the policy admits it. */
  offer(key: string, bytes: Uint8Array): void {
    if (this.limit === 0 || this.small.has(key) || this.main.has(key)) return;
    const slab = takeSlab(bytes.byteLength);
    if (slab.footprint > this.limit) return retireSlab(slab);
    slab.data(bytes.byteLength).set(bytes);
    this.insert(key, slab, bytes.byteLength);
  }

  private insert(key: string, slab: Slab, size: number): Entry {
    const ghost = this.ghost.get(key);
    if (ghost !== undefined) {
      this.ghost.delete(key);
      this.ghostBytes -= ghost;
    }
    // Seen recently (a ghost): straight to main. LRU has one queue, main.
    const queue = this.policy === 'lru' || ghost !== undefined ? this.main : this.small;
    this.makeRoom(slab.footprint);
    const e: Entry = { key, bytes: slab.data(size), slab, weight: slab.footprint, pins: 0, tainted: false, gone: false, freq: 0, queue };
    this.enqueue(e, queue);
    this.stats.inserts++;
    this.lastUse = Date.now();
    this.idle ??= setInterval(() => this.trimIdle(), Math.max(1000, this.idleMs / 4)).unref();
    return e;
  }

  /** Takes `key` out (gc removed it, the quarantine moved it aside). */
  delete(key: string): void {
    const e = this.main.get(key) ?? this.small.get(key);
    if (e) this.remove(e);
    const g = this.ghost.get(key);
    if (g !== undefined) {
      this.ghost.delete(key);
      this.ghostBytes -= g;
    }
  }

  /** Empties the cache (chunks still pinned are freed when their readers let go). */
  clear(): void {
    for (const e of [...this.small.values(), ...this.main.values()]) this.remove(e);
    this.ghost.clear();
    this.ghostBytes = 0;
    clearInterval(this.idle);
    this.idle = undefined;
  }

  private trimIdle(): void {
    if (Date.now() - this.lastUse >= this.idleMs) this.clear();
  }

  private enqueue(e: Entry, queue: Map<string, Entry>): void {
    e.queue = queue;
    queue.set(e.key, e);
    if (queue === this.small) this.smallBytes += e.weight;
    else this.mainBytes += e.weight;
    this.stats.bytes += e.weight;
    this.stats.entries++;
  }

  private dequeue(e: Entry): void {
    e.queue.delete(e.key);
    if (e.queue === this.small) this.smallBytes -= e.weight;
    else this.mainBytes -= e.weight;
    this.stats.bytes -= e.weight;
    this.stats.entries--;
  }

  private remove(e: Entry): void {
    this.dequeue(e);
    e.gone = true;
    if (e.pins === 0) free(e);
  }

  private makeRoom(weight: number): void {
    while (this.stats.bytes + weight > this.limit) {
      const fromSmall = this.small.size > 0 && (this.smallBytes > this.limit * SMALL_SHARE || this.main.size === 0);
      const q = fromSmall ? this.small : this.main;
      const oldest = q.values().next().value;
      if (!oldest) return; // unreachable: bytes > 0 means an entry somewhere
      if (this.policy === 'lru') this.evict(oldest);
      else if (fromSmall) {
        this.dequeue(oldest);
        if (oldest.freq > 0) {
          oldest.freq = 0; // read again while in small: promoted
          this.enqueue(oldest, this.main);
        } else {
          this.remember(oldest);
          oldest.gone = true;
          this.stats.evictions++;
          if (oldest.pins === 0) free(oldest);
        }
      } else if (oldest.freq > 0) {
        oldest.freq--; // a second chance: to the back of main
        this.dequeue(oldest);
        this.enqueue(oldest, this.main);
      } else this.evict(oldest);
    }
  }

  private evict(e: Entry): void {
    this.remove(e);
    this.stats.evictions++;
  }

  private remember(e: Entry): void {
    this.ghost.set(e.key, e.weight);
    this.ghostBytes += e.weight;
    // As many keys as main holds bytes' worth: older ghosts are forgotten.
    for (const [key, w] of this.ghost) {
      if (this.ghostBytes <= this.limit) break;
      this.ghost.delete(key);
      this.ghostBytes -= w;
    }
  }
}

function free(e: Entry): void {
  if (e.tainted) dropSlab(e.slab);
  else retireSlab(e.slab);
}
