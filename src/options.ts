import { totalmem } from 'node:os';
import * as z from './internal/zod.js';
import { resolveOptions } from './internal/options.js';
import { isChunkStore, type ChunkStore } from './storage/types.js';
import { DEFAULT_DATA_DIR } from './storage/open.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/**
 * The chunk cache's size for a server that opens its store (`serve`, startServer without a
 * store): 1/16 of the machine's memory, at most 512 MiB (a 2 GiB machine keeps 128 MiB of hot
 * chunks), held beside the transfer budget (docs/architecture.md). An embedded store has none
 * unless asked (`cacheBytes`): the process is the embedder's, and so is its memory.
 */
export const DEFAULT_CACHE_BYTES = Math.min(Math.floor(totalmem() / 16), 512 * 1024 * 1024);

export const DEFAULTS = {
  dir: DEFAULT_DATA_DIR,
  chunkSize: 4 * MiB,
  uploadConcurrency: 4,
  downloadConcurrency: 4,
  uploadTtlMs: 24 * 3600_000,
  gcGraceMs: 3600_000,
  maxFileSize: Number.MAX_SAFE_INTEGER,
  sourceBufferBytes: 64 * MiB,
  fsync: true,
  cacheBytes: 0,
  // The clock every TTL and age decision reads (upload expiry, gc grace): tests pass a fake one.
  now: Date.now,
} as const;

const int = (min: number, max: number) => z.number().check(z.int(), z.gte(min), z.lte(max));

/** Inclusive bounds of the numeric options (the CLI states them in its own terms). */
export const LIMITS = {
  chunkSize: [64 * KiB, 64 * MiB],
  concurrency: [1, 64],
} as const;

export const storeOptionsSchema = z.strictObject({
  dir: z.string().check(z.minLength(1)),
  chunkStore: z.optional(z.custom<ChunkStore>(isChunkStore, 'must implement put, get, has, delete and list')),
  chunkSize: int(...LIMITS.chunkSize),
  uploadConcurrency: int(...LIMITS.concurrency),
  downloadConcurrency: int(...LIMITS.concurrency),
  uploadTtlMs: int(1000, 365 * 24 * 3600_000),
  gcGraceMs: int(0, 365 * 24 * 3600_000),
  maxFileSize: int(0, Number.MAX_SAFE_INTEGER),
  sourceBufferBytes: int(64 * KiB, 4096 * MiB),
  fsync: z.boolean(),
  /** Verified chunks kept in memory for every download of the store (0: none). */
  cacheBytes: int(0, Number.MAX_SAFE_INTEGER),
  now: z.custom<() => number>((v) => typeof v === 'function', 'must be a function returning epoch milliseconds'),
});

export type StoreOptions = Partial<z.input<typeof storeOptionsSchema>>;
export type ResolvedStoreOptions = z.output<typeof storeOptionsSchema>;

/** Fills defaults, then validates all at once; the error names the first bad option. */
export function resolveStoreOptions(options: unknown = {}): ResolvedStoreOptions {
  return resolveOptions(storeOptionsSchema, DEFAULTS, options);
}

/** Connections a store's backend should allow: uploads and downloads at full concurrency at once. */
export function backendConcurrency(o: Pick<StoreOptions, 'uploadConcurrency' | 'downloadConcurrency'>): number {
  return (o.uploadConcurrency ?? DEFAULTS.uploadConcurrency) + (o.downloadConcurrency ?? DEFAULTS.downloadConcurrency);
}
