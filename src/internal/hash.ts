import { createHash } from 'node:crypto';

/** Hex SHA-256 of one chunk: its key in the store. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * The same digest on the opt-in hash worker pool (see hashPool.ts): check `usesHashPool` first,
 * then `await sha256HexPooled`. With `owned` the bytes move to the worker and back instead of
 * being copied; the caller must then use the returned `data` (its original view is detached).
 */
export { sha256HexPooled, usesHashPool } from './hashPool.js';
