export type {
  ChunkStore,
  StoreCapabilities,
  CallOptions,
  PutOptions,
  GetOptions,
  PutResult,
  StoredObject,
} from './types.js';
export { isValidKey, isChunkStore } from './types.js';
export { createMemoryStore } from './memory.js';
export { createFsStore, type FsStoreOptions } from './fs.js';
export { withLatency, type LatencyOptions } from './latency.js';
export { createS3Store, type S3Store, type S3StoreOptions } from './s3.js';
