import type { Catalog } from '../catalog/catalog.js';
import type { HeldBytes } from '../internal/gauge.js';
import type { ResolvedStoreOptions } from '../options.js';
import type { ChunkStore } from '../storage/types.js';

/** What the engine's parts share for one open store. */
export interface EngineContext {
  store: ChunkStore;
  catalog: Catalog;
  options: ResolvedStoreOptions;
  /** Bytes held by all transfers of this store. */
  gauge: HeldBytes;
  /** Chunk keys written by uploads still running in this process: gc never removes them. */
  live: Map<string, number>;
}

export function holdLive(ctx: EngineContext, key: string): void {
  ctx.live.set(key, (ctx.live.get(key) ?? 0) + 1);
}

export function dropLive(ctx: EngineContext, key: string): void {
  const n = (ctx.live.get(key) ?? 0) - 1;
  if (n <= 0) ctx.live.delete(key);
  else ctx.live.set(key, n);
}
