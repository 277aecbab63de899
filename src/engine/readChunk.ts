import { IntegrityError, InternalError } from '../errors.js';
import { digest } from '../internal/hashing.js';
import { TAIL, type Slab } from '../internal/slabs.js';
import { chunkKey } from '../catalog/catalog.js';
import type { ChunkRef } from '../catalog/schema.js';
import type { ChunkStore, LateBuffer } from '../storage/types.js';

/**
 * Reads an object from its start into `target`, in place where the backend can, else with one
 * copy of what `get` returned; resolves the filled view of the buffer. A late buffer is offered to
 * the store (`lateInto`) to take when its bytes come, and taken here if the store did not.
 */
export async function readInto(store: ChunkStore, key: string, target: Uint8Array | LateBuffer, signal?: AbortSignal): Promise<Uint8Array> {
  let buf: Uint8Array;
  let data: Uint8Array;
  if (target instanceof Uint8Array) {
    buf = target;
    data = await store.get(key, { signal, into: target });
  } else {
    let taken: Promise<Uint8Array> | undefined;
    const once: LateBuffer = {
      size: target.size,
      // Twice would be two writers in one buffer: refused, not shared.
      take: () => (taken ? Promise.reject(new InternalError(`[${store.name}] took the buffer of ${key} twice`)) : (taken = target.take())),
    };
    data = await store.get(key, { signal, lateInto: once });
    buf = await (taken ?? target.take());
  }
  if (data.buffer === buf.buffer && data.byteOffset === buf.byteOffset) return data.subarray(0, Math.min(data.byteLength, buf.byteLength));
  const n = Math.min(data.byteLength, buf.byteLength);
  buf.set(n === data.byteLength ? data : data.subarray(0, n));
  return buf.subarray(0, n);
}

/**
 * Reads one whole chunk into a slab and checks it against its key before anyone sees it: a wrong
 * byte is never delivered. One byte more than the chunk is asked for, so a stored object that is
 * too long is caught as surely as one too short. The hash runs on a hash thread, in place.
 *
 * `slab` may be a function that takes one: the store calls it once the chunk's bytes are about to
 * arrive (only pass one to a store with `capabilities.lateInto`), so the read's latency holds no
 * buffer; the caller gives back what it took, on failure too.
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
  const size = ref.size + TAIL;
  const target: Uint8Array | LateBuffer = held
    ? held.data(size)
    : { size, take: async () => (held = await (slab as () => Promise<Slab>)()).data(size) };
  let n: number;
  try {
    n = (await readInto(store, chunkKey(ref.key), target, signal)).byteLength;
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
