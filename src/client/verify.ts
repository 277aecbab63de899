// Node: chunk digests on the hash threads (src/internal/hashing.ts), off the event loop. Browsers get
// verify.browser.ts instead (package.json `browser` field; the browser build aliases it).
import { digest } from '../internal/hashing.js';

/** Idle SharedArrayBuffers by size: a received frame is copied into one so a hash thread reads it in place. */
const idle = new Map<number, SharedArrayBuffer[]>();
let idleBytes = 0;
const IDLE_LIMIT = 64 * 1024 * 1024;

function take(size: number): SharedArrayBuffer {
  const list = idle.get(size);
  const sab = list?.pop();
  if (!sab) return new SharedArrayBuffer(size);
  idleBytes -= size;
  if (list!.length === 0) idle.delete(size);
  return sab;
}

function give(sab: SharedArrayBuffer): void {
  if (idleBytes + sab.byteLength > IDLE_LIMIT) return;
  const list = idle.get(sab.byteLength) ?? [];
  list.push(sab);
  idle.set(sab.byteLength, list);
  idleBytes += sab.byteLength;
}

export interface Digested {
  hex: string;
  /** The bytes passed in (browsers may hand back a new view: verify.browser.ts). */
  bytes: Uint8Array;
}

/** Hex SHA-256 of `bytes`, computed off the event loop (one copy into warm shared memory, ~1/8 of the hash's cost). */
export async function chunkDigest(bytes: Uint8Array): Promise<Digested> {
  const sab = take(bytes.byteLength);
  const view = new Uint8Array(sab);
  view.set(bytes);
  try {
    return { hex: await digest(view), bytes };
  } finally {
    give(sab);
  }
}
