import { NotFoundError, isChunkstreamError } from '../errors.js';
import type { ChunkStore } from '../storage/types.js';
import type { LocalLocation } from './location.js';

/**
 * `--store s3://BUCKET/PREFIX`, checked as a local directory is (store-check.ts): a read command
 * on a prefix with nothing under it says "no store" (a typo must not look like an empty store),
 * and a missing bucket is named, not reported as `object files/ not found`. One listing call.
 */
export async function checkS3Store(chunks: ChunkStore, loc: LocalLocation, mode: 'read' | 'write'): Promise<void> {
  if (!loc.store?.startsWith('s3://')) return;
  const bucket = loc.store.slice('s3://'.length).split('/')[0] ?? '';
  let found = false;
  try {
    for await (const _ of chunks.list('')) {
      found = true;
      break;
    }
  } catch (err) {
    // Listing the store's own prefix is never "not found": only the bucket can be missing.
    if (isChunkstreamError(err) && err.code === 'not_found') {
      const at = loc.s3Endpoint ? ` at ${loc.s3Endpoint}` : '';
      throw new NotFoundError('store', `no store at ${loc.store}: bucket "${bucket}" does not exist${at} (--store names the store)`);
    }
    throw err;
  }
  if (!found && mode === 'read') {
    throw new NotFoundError('store', `no store at ${loc.store}: nothing is stored under that prefix (--store names the store)`);
  }
}
