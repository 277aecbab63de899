import { InvalidOptionError } from '../errors.js';
import { createFsStore } from './fs.js';
import type { ChunkStore } from './types.js';

/** Where a server or CLI command keeps its store: `--dir` (default) or `--store s3://BUCKET/PREFIX`. */
export interface StoreLocation {
  dir?: string;
  /** `s3://BUCKET/PREFIX` (scale-out) or `file://PATH`; overrides `dir`. */
  store?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3ForcePathStyle?: boolean;
  /** Sizes connection pools: upload + download concurrency of the transfers it will serve. */
  concurrency?: number;
  fsync?: boolean;
}

/** Opens the ChunkStore a location names. The S3 branch is filled in by the S3 backend. */
export async function openChunkStore(location: StoreLocation): Promise<ChunkStore> {
  if (location.store === undefined) return createFsStore(location.dir ?? './data', { fsync: location.fsync });
  if (location.store.startsWith('file://')) return createFsStore(location.store.slice('file://'.length), { fsync: location.fsync });
  throw new InvalidOptionError('store', `unsupported store URL ${JSON.stringify(location.store)} (expected file://PATH or s3://BUCKET/PREFIX)`);
}
