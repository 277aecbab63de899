import type { Catalog } from '../catalog/catalog.js';
import type { ChunkCache } from '../internal/chunk-cache.js';
import type { HeldBytes } from '../internal/gauge.js';
import type { StreamHash } from '../internal/hashing.js';
import type { StoreObserver } from './observer.js';
import type { ResolvedStoreOptions } from '../options.js';
import type { ChunkStore } from '../storage/types.js';
import type { NameIndex } from '../storage/name-index.js';
import type { MigrationReport } from './names-types.js';

/** What the engine's parts share for one open store. */
export interface EngineContext {
  store: ChunkStore;
  catalog: Catalog;
  /** The name space: the store's own index, or objects under `names/` for a store without one. */
  names: NameIndex;
  /** The migration of a store written before the index (ensureMigrated), once per open store. */
  migration?: Promise<MigrationReport>;
  options: ResolvedStoreOptions;
  /** Bytes held by all transfers of this store. */
  gauge: HeldBytes;
  /** Chunk keys written by uploads still running in this process: gc never removes them. */
  live: Map<string, number>;
  /**
   * Writes that outlive their upload, by upload id: the final progress save of an interrupted
   * upload, the marker of a committed one. Status, resume and abort wait for them.
   */
  settling: Map<string, Promise<void>>;
  /** One controller per transfer in flight: close() aborts them all. */
  transfers: Set<AbortController>;
  /**
   * Whole-file hashes of paused upload segments (tus PATCHes, `segment: true`), by upload id, with
   * the bytes they cover: the next segment on this process goes on hashing instead of re-reading
   * the file so far. Dropped on expiry; another process re-reads once.
   */
  parked: Map<string, { hash: StreamHash; size: number; expires: number }>;
  /** Metrics and logs (store.observe): told of transfers and verify reports. */
  observers: Set<StoreObserver>;
  /** Verified chunks in memory, shared by every download (none when cacheBytes is 0). */
  cache?: ChunkCache;
  closed: boolean;
}

/** Waits for an upload's outstanding final writes, so its session or marker is read (or deleted) after them. */
export async function settled(ctx: EngineContext, uploadId: string): Promise<void> {
  await ctx.settling.get(uploadId);
}

/** Registers a write `settled` must wait for (after any already registered); it must not reject. */
export function settle(ctx: EngineContext, uploadId: string, write: Promise<void>): Promise<void> {
  const previous = ctx.settling.get(uploadId);
  const all: Promise<void> = Promise.all([previous, write])
    .then(() => undefined)
    .finally(() => ctx.settling.get(uploadId) === all && ctx.settling.delete(uploadId));
  ctx.settling.set(uploadId, all);
  return all;
}

export function holdLive(ctx: EngineContext, key: string): void {
  ctx.live.set(key, (ctx.live.get(key) ?? 0) + 1);
}

export function dropLive(ctx: EngineContext, key: string): void {
  const n = (ctx.live.get(key) ?? 0) - 1;
  if (n <= 0) ctx.live.delete(key);
  else ctx.live.set(key, n);
}

/** Takes the parked hash of an upload if it covers exactly `size` bytes (else drops it). */
export function unpark(ctx: EngineContext, uploadId: string, size: number): StreamHash | undefined {
  const p = ctx.parked.get(uploadId);
  if (!p) return undefined;
  ctx.parked.delete(uploadId);
  if (p.size === size && p.expires > ctx.options.now()) return p.hash;
  p.hash.drop();
  return undefined;
}

const MAX_PARKED = 10_000;

export function park(ctx: EngineContext, uploadId: string, hash: StreamHash, size: number): void {
  unpark(ctx, uploadId, -1);
  const now = ctx.options.now();
  for (const [id, p] of ctx.parked) {
    if (p.expires > now && ctx.parked.size < MAX_PARKED) break; // oldest first: stop at the first live one
    ctx.parked.delete(id);
    p.hash.drop();
  }
  ctx.parked.set(uploadId, { hash, size, expires: now + ctx.options.uploadTtlMs });
}
