// chunkstream/s3: the S3-compatible ChunkStore. Its own entry point, so the AWS SDK (an optional
// peer dependency) is needed only by programs that use it:
// `openStore({ chunkStore: createS3Store({ bucket, prefix, endpoint }) })`. Without it, this
// import fails with `missing_dependency` naming the npm command.
import { importWithPeers } from './internal/peers.js';

const s3 = await importWithPeers('chunkstream/s3', ['@aws-sdk/client-s3'], () => import('./storage/s3.js'));

export const { createS3Store } = s3;
export type { S3Store, S3StoreOptions } from './storage/s3.js';
