// Shared by the crash test and its child (which must not load vitest): the bytes of each version.
import { createHash } from 'node:crypto';

export const CRASH_CHUNK = 64 * 1024;

/** Two chunks and a bit, different for every seed. */
export function content(seed: number): Buffer {
  const out = Buffer.alloc(2 * CRASH_CHUNK + 17);
  let block = createHash('sha256').update(`seed ${seed}`).digest();
  for (let i = 0; i < out.length; i += 32) {
    block.copy(out, i);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}
