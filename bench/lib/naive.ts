import { createHash } from 'node:crypto';
import type { ChunkStore, Manifest } from '../../src/index.js';

/**
 * The naive baseline of an ordered parallel download: one promise per chunk, at most `n` started
 * ahead of the one being delivered, each verified with SHA-256 on the event loop as soon as its
 * read resolves. No Observables, no gauge: the simplest correct thing, for comparison.
 */
export async function naiveDownload(store: ChunkStore, m: Manifest, n: number, onChunk: (data: Uint8Array) => void): Promise<void> {
  const read = (i: number): Promise<Uint8Array> => {
    const ref = m.chunks[i]!;
    const p = store.get(`chunks/${ref.key.slice(0, 2)}/${ref.key.slice(2, 4)}/${ref.key}`).then((data) => {
      if (createHash('sha256').update(data).digest('hex') !== ref.key) throw new Error(`chunk ${i}: SHA-256 mismatch`);
      return data;
    });
    p.catch(() => undefined); // a failure surfaces when its turn comes, not as an unhandled rejection
    return p;
  };
  const pending: Promise<Uint8Array>[] = [];
  let next = 0;
  while (next < m.chunks.length && pending.length < n) pending.push(read(next++));
  while (pending.length > 0) {
    const data = await pending.shift()!;
    if (next < m.chunks.length) pending.push(read(next++));
    onChunk(data);
  }
}
