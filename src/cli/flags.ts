import { bool, integer, str, type Parsed } from './args.js';

// No engine imports here: --help and usage errors must start fast.

/** Where the store is: flags shared by every command. */
export const LOCATION_FLAGS = {
  dir: { type: 'string' },
  store: { type: 'string' },
  's3-endpoint': { type: 'string' },
  's3-region': { type: 'string' },
  's3-force-path-style': { type: 'boolean' },
  'chunk-size': { type: 'string' },
  'upload-concurrency': { type: 'string' },
  'download-concurrency': { type: 'string' },
} as const;

export const CLIENT_FLAGS = { ...LOCATION_FLAGS, server: { type: 'string' }, token: { type: 'string' } } as const;

export const SERVE_FLAGS = {
  ...LOCATION_FLAGS,
  host: { type: 'string' },
  port: { type: 'string' },
  token: { type: 'string', multiple: true },
  'tokens-file': { type: 'string' },
  insecure: { type: 'boolean' },
  'max-transfer-bytes': { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  'allow-origin': { type: 'string', multiple: true },
  'cors-origin': { type: 'string', multiple: true },
  'public-url': { type: 'string' },
  'link-secret': { type: 'string' },
  'link-secret-file': { type: 'string' },
} as const;

/** The store location and tuning flags, as openChunkStore / openStore options. */
export function location(p: Parsed) {
  return {
    dir: str(p, 'dir') ?? './data',
    store: str(p, 'store'),
    s3Endpoint: str(p, 's3-endpoint'),
    s3Region: str(p, 's3-region'),
    s3ForcePathStyle: p.values['s3-force-path-style'] === undefined ? undefined : bool(p, 's3-force-path-style'),
    chunkSize: integer(p, 'chunk-size', true),
    uploadConcurrency: integer(p, 'upload-concurrency'),
    downloadConcurrency: integer(p, 'download-concurrency'),
  };
}
