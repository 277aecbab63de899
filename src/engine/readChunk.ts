import type { Observable } from 'rxjs';
import { IntegrityError } from '../errors.js';
import { fromAbortable } from '../internal/abort.js';
import { sha256Hex, sha256HexPooled, usesHashPool } from '../internal/hash.js';
import { chunkKey } from '../catalog/catalog.js';
import type { ChunkRef } from '../catalog/schema.js';
import type { ChunkStore } from '../storage/types.js';

/** Reads one whole chunk and checks it against its key: a wrong byte is never delivered. */
export async function readVerified(
  store: ChunkStore,
  ref: ChunkRef,
  where: { fileId?: string; index?: number },
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const data = await store.get(chunkKey(ref.key), { signal });
  if (data.byteLength !== ref.size) {
    throw new IntegrityError(where.fileId, where.index, ref.key, `size ${data.byteLength}, expected ${ref.size}`);
  }
  if (!usesHashPool(data.byteLength)) {
    if (sha256Hex(data) !== ref.key) throw new IntegrityError(where.fileId, where.index, ref.key, 'SHA-256 mismatch');
    return data;
  }
  // Opt-in hash pool: the buffer (fresh from the store, ours alone) moves to a worker and back,
  // so other chunks' reads and deliveries go on while it is hashed.
  const { hex, data: verified } = await sha256HexPooled(data, { owned: true });
  if (hex !== ref.key) throw new IntegrityError(where.fileId, where.index, ref.key, 'SHA-256 mismatch');
  return verified;
}

/** The same as a cold Observable: subscribing starts the read, unsubscribing aborts it. */
export function readChunk$(store: ChunkStore, ref: ChunkRef, fileId: string, index: number, signal?: AbortSignal): Observable<Uint8Array> {
  return fromAbortable((s) => readVerified(store, ref, { fileId, index }, s), signal);
}
