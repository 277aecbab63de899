import { IntegrityError } from '../errors.js';
import { digest } from '../internal/hashing.js';
import { TAIL, type Slab } from '../internal/slabs.js';
import { chunkKey } from '../catalog/catalog.js';
import type { ChunkRef } from '../catalog/schema.js';
import type { ChunkStore } from '../storage/types.js';

/** Reads an object from its start into `target`: in place where the backend can, else one copy of what `get` returned. */
export async function readInto(store: ChunkStore, key: string, target: Uint8Array, signal?: AbortSignal): Promise<number> {
  const data = await store.get(key, { signal, into: target });
  if (data.buffer === target.buffer && data.byteOffset === target.byteOffset) return Math.min(data.byteLength, target.byteLength);
  const n = Math.min(data.byteLength, target.byteLength);
  target.set(n === data.byteLength ? data : data.subarray(0, n));
  return n;
}

/**
 * Reads one whole chunk into `slab` and checks it against its key before anyone sees it: a wrong
 * byte is never delivered. One byte more than the chunk is asked for, so a stored object that is
 * too long is caught as surely as one too short. The hash runs on a hash thread, in place.
 */
export async function readVerified(
  store: ChunkStore,
  ref: ChunkRef,
  slab: Slab,
  where: { fileId?: string; index?: number },
  signal?: AbortSignal,
  /** Called once the store read settled, before the hash: the next read may start then. */
  afterRead?: () => void,
): Promise<Buffer> {
  let n: number;
  try {
    n = await readInto(store, chunkKey(ref.key), slab.data(ref.size + TAIL), signal);
  } finally {
    afterRead?.();
  }
  if (n !== ref.size) {
    const detail = n > ref.size ? `the stored object is longer than its ${ref.size} bytes` : `size ${n}, expected ${ref.size}`;
    throw new IntegrityError(where.fileId, where.index, ref.key, detail);
  }
  const view = slab.data(ref.size);
  if ((await digest(view)) !== ref.key) throw new IntegrityError(where.fileId, where.index, ref.key, 'SHA-256 mismatch');
  return view;
}
