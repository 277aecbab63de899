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
  /** Final progress saves of interrupted uploads, by upload id: status, resume and abort wait for them. */
  settling: Map<string, Promise<void>>;
}

/** Waits for an interrupted upload's last progress save, so its session is read (or deleted) after it. */
export async function settled(ctx: EngineContext, uploadId: string): Promise<void> {
  await ctx.settling.get(uploadId);
}

export function holdLive(ctx: EngineContext, key: string): void {
  ctx.live.set(key, (ctx.live.get(key) ?? 0) + 1);
}

export function dropLive(ctx: EngineContext, key: string): void {
  const n = (ctx.live.get(key) ?? 0) - 1;
  if (n <= 0) ctx.live.delete(key);
  else ctx.live.set(key, n);
}
