// chunkstream/s3: the S3-compatible ChunkStore. Its own entry point, so the AWS SDK loads only
// for programs that use it: `openStore({ chunkStore: createS3Store({ bucket, prefix, endpoint }) })`.
export { createS3Store, type S3Store, type S3StoreOptions } from './storage/s3.js';
