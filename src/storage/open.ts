import { InvalidOptionError } from '../errors.js';
import { importWithPeers } from '../internal/peers.js';
import { createFsStore } from './fs.js';
import type { ChunkStore } from './types.js';

/** Where a server or CLI command keeps its store: `--dir` (default) or `--store s3://BUCKET/PREFIX`. */
/** Where a store is kept when no directory or bucket is named: the server, the CLI and openStore agree. */
export const DEFAULT_DATA_DIR = './data';

export interface StoreLocation {
  dir?: string;
  /** `s3://BUCKET/PREFIX` (scale-out) or `file://PATH`; overrides `dir`. */
  store?: string;
  s3Endpoint?: string;
  s3Region?: string;
  /** Path-style URLs (`ENDPOINT/BUCKET/KEY`); default true when an endpoint is given (MinIO, s3rver). */
  s3ForcePathStyle?: boolean;
  /** Sizes connection pools: upload + download concurrency of the transfers it will serve. */
  concurrency?: number;
  fsync?: boolean;
}

/** Opens the ChunkStore a location names. */
export async function openChunkStore(location: StoreLocation): Promise<ChunkStore> {
  if (location.store === undefined) return createFsStore(location.dir ?? DEFAULT_DATA_DIR, { fsync: location.fsync });
  if (location.store.startsWith('file://')) return createFsStore(location.store.slice('file://'.length), { fsync: location.fsync });
  if (location.store.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Url(location.store);
    // Loaded on demand: the AWS SDK is a third of a CLI command's start-up otherwise.
    const { createS3Store } = await importWithPeers(`--store ${location.store}`, ['@aws-sdk/client-s3'], () => import('./s3.js'));
    return createS3Store({
      bucket,
      prefix,
      endpoint: location.s3Endpoint,
      region: location.s3Region,
      forcePathStyle: location.s3ForcePathStyle ?? (location.s3Endpoint !== undefined ? true : undefined),
      // Every chunk in flight holds a socket: room for a few transfers at full concurrency plus
      // catalog reads and writes, never below the SDK's default of 50.
      maxSockets: location.concurrency !== undefined ? Math.max(50, location.concurrency * 4) : undefined,
    });
  }
  throw new InvalidOptionError(
    'store',
    `unsupported store URL ${JSON.stringify(location.store)} (expected file://PATH or s3://BUCKET/PREFIX)`,
  );
}

/** `s3://BUCKET[/PREFIX]` → its parts; the prefix may be empty (the whole bucket). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/?#]+)(?:\/([^?#]*))?$/.exec(url);
  const bucket = m?.[1];
  const prefix = (m?.[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (!bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new InvalidOptionError(
      'store',
      `malformed S3 URL ${JSON.stringify(url)} (expected s3://BUCKET/PREFIX, BUCKET of 3-63 [a-z0-9.-])`,
    );
  }
  if (prefix.split('/').some((s) => s === '.' || s === '..' || (prefix !== '' && s === ''))) {
    throw new InvalidOptionError(
      'store',
      `malformed S3 URL ${JSON.stringify(url)}: the prefix must not contain empty, "." or ".." segments`,
    );
  }
  return { bucket, prefix };
}
