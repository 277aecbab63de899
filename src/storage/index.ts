export type { ChunkStore, StoreCapabilities, CallOptions, PutOptions, GetOptions, PutResult, StoredObject, SweepOptions } from './types.js';
export { isValidKey, isChunkStore } from './types.js';
export { createMemoryStore } from './memory.js';
export { createFsStore, type FsStoreOptions } from './fs.js';
export { withLatency, type LatencyOptions } from './latency.js';
// The S3 backend is its own entry point (`chunkstream/s3`): the AWS SDK loads only when used.
