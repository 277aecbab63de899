import { createHash } from 'node:crypto';

/** Hex SHA-256 of one chunk: its key in the store. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
