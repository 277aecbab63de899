// The public API, by name. Nothing under internal/ is public. The server is `chunkstream/server`
// (it needs pino and prom-client, optional peers), the S3 backend `chunkstream/s3` (the AWS SDK).
export { openStore, type Store, type UploadStatus } from './engine/store.js';
export type { UploadOptions, UploadEvent, UploadSource } from './engine/upload.js';
export type { SegmentOptions } from './engine/upload-types.js';
export type { UploadInfo } from './engine/uploads.js';
export type { ListPage, ListItem, NameBinding, NameConditions, MigrationReport } from './engine/names-types.js';
export { checkObjectName, decodeObjectName, resolveListQuery, MAX_NAME_BYTES, type ListQuery } from './catalog/names.js';
export {
  compareNames,
  createMemoryNameIndex,
  type NameIndex,
  type NameRecord,
  type NameQuery,
  type NamePage,
} from './storage/name-index.js';
export type { DownloadOptions } from './engine/download.js';
export { resolveRange, planDownload, type ByteRange, type DownloadPlan } from './engine/plan.js';
export { TransferBudget, BusyError, type Reservation } from './engine/budget.js';
export type { FileInfo, Manifest, ChunkRef } from './catalog/schema.js';
export type { GcOptions, GcReport, VerifyReport, VerifyProblem, RepairReport, DamagedChunk, ChunkFault } from './engine/gc-types.js';
export { DEFAULTS, KiB, MiB, resolveStoreOptions, type StoreOptions, type ResolvedStoreOptions } from './options.js';
export { concatMapEager, mergeMapBounded, fromPull, type PullSource, type FlowControl } from './operators/index.js';
export { createDemand, type Demand } from './operators/demand.js';
export { HeldBytes } from './internal/gauge.js';
export { configureHashing, type HashingOptions } from './internal/hashing.js';
export type { ByteSource } from './internal/source.js';
export { toReadable, type ByteStreamSource } from './node.js';
export {
  withMeter,
  type StoreObserver,
  type TransferMeter,
  type TransferInfo,
  type TransferWatch,
  type TransferOutcome,
  type TransferEnd,
} from './engine/observer.js';
export { instrumentChunkStore, type ChunkStoreHooks } from './storage/instrumented.js';
export {
  createFsStore,
  createMemoryStore,
  withLatency,
  isChunkStore,
  isValidKey,
  type ChunkStore,
  type StoreCapabilities,
  type CallOptions,
  type PutOptions,
  type GetOptions,
  type PutResult,
  type StoredObject,
  type FsStoreOptions,
  type LatencyOptions,
} from './storage/index.js';
export {
  ChunkstreamError,
  InternalError,
  InvalidOptionError,
  BadRequestError,
  NotFoundError,
  RangeNotSatisfiableError,
  IntegrityError,
  CorruptManifestError,
  MissingChunkError,
  AbortError,
  TooLargeError,
  SourceOverflowError,
  StorageError,
  ChecksumMismatchError,
  PreconditionFailedError,
  MissingDependencyError,
  isChunkstreamError,
  toChunkstreamError,
  type ErrorCode,
} from './errors.js';
