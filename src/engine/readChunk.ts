import { IntegrityError } from '../errors.js';
import { digest } from '../internal/hashing.js';
import { TAIL, type Slab } from '../internal/slabs.js';
import { chunkKey } from '../catalog/catalog.js';
import type { ChunkRef } from '../catalog/schema.js';
import type { ChunkStore, LateBuffer } from '../storage/types.js';

/**
 * Reads an object from its start into the late buffer: in place where the backend takes it when
 * its bytes arrive, else one copy of what `get` returned. Resolves the filled view of the buffer.
 */
export async function readInto(store: ChunkStore, key: string, late: LateBuffer, signal?: AbortSignal): Promise<Uint8Array> {
  let taken: Promise<Uint8Array> | undefined;
  const once: LateBuffer = { size: late.size, take: () => (taken ??= late.take()) };
  const data = await store.get(key, { signal, lateInto: once });
  const target = await once.take();
  if (data.buffer === target.buffer && data.byteOffset === target.byteOffset)
    return data.subarray(0, Math.min(data.byteLength, target.byteLength));
  const n = Math.min(data.byteLength, target.byteLength);
  target.set(n === data.byteLength ? data : data.subarray(0, n));
  return target.subarray(0, n);
}

/**
 * Reads one whole chunk into a slab and checks it against its key before anyone sees it: a wrong
 * byte is never delivered. One byte more than the chunk is asked for, so a stored object that is
 * too long is caught as surely as one too short. The hash runs on a hash thread, in place.
 *
 * `slab` may be a function that takes one: the store calls it once the chunk's bytes are about to
 * arrive, so the read's latency holds no buffer (the caller gives back what it took, on failure too).
 */
export async function readVerified(
  store: ChunkStore,
  ref: ChunkRef,
  slab: Slab | (() => Promise<Slab>),
  where: { fileId?: string; index?: number },
  signal?: AbortSignal,
  /** Called once the store read settled, before the hash: the next read may start then. */
  afterRead?: () => void,
): Promise<Buffer> {
  let held: Slab | undefined = typeof slab === 'function' ? undefined : slab;
  const late: LateBuffer = {
    size: ref.size + TAIL,
    take: async () => (held ??= await (slab as () => Promise<Slab>)()).data(ref.size + TAIL),
  };
  let n: number;
  try {
    n = (await readInto(store, chunkKey(ref.key), late, signal)).byteLength;
  } finally {
    afterRead?.();
  }
  if (n !== ref.size) {
    const detail = n > ref.size ? `the stored object is longer than its ${ref.size} bytes` : `size ${n}, expected ${ref.size}`;
    throw new IntegrityError(where.fileId, where.index, ref.key, detail);
  }
  const view = held!.data(ref.size);
  if ((await digest(view)) !== ref.key) throw new IntegrityError(where.fileId, where.index, ref.key, 'SHA-256 mismatch');
  return view;
}
