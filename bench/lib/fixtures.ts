import { randomFillSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom, type Observable } from 'rxjs';
import { createMemoryStore, openStore, type ChunkStore, type Manifest, type Store, type StoreOptions } from '../../src/index.js';
import { MiB } from './harness.js';

const dirs = new Set<string>();

/** A fresh directory under the OS temp dir, removed by `cleanupAll` (also on exit and on signals). */
export function tempDir(tag: string): string {
  const d = mkdtempSync(path.join(tmpdir(), `chunkstream-bench-${tag}-`));
  dirs.add(d);
  return d;
}

export function removeDir(d: string): void {
  rmSync(d, { recursive: true, force: true });
  dirs.delete(d);
}

export function cleanupAll(): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

process.once('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanupAll();
    process.exit(130);
  });
}

/** `size` random bytes (filled in 64 MiB pieces: randomFillSync has a 2 GiB limit per call). */
export function randomBuffer(size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  for (let off = 0; off < size; off += 64 * MiB) randomFillSync(buf, off, Math.min(64 * MiB, size - off));
  return buf;
}

/**
 * Writes a distinct stamp into the first 8 bytes of every `chunkSize` block, so the same buffer
 * uploaded again is new content (the store deduplicates chunks by SHA-256).
 */
export function stamp(buf: Uint8Array, chunkSize: number, value: number): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let off = 0; off + 8 <= buf.byteLength; off += chunkSize) view.setFloat64(off, value + off);
}

/** Yields `buf` in `piece`-sized views: what a file stream or a socket hands the engine. */
export async function* pieces(buf: Uint8Array, piece: number): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < buf.byteLength; off += piece) yield buf.subarray(off, Math.min(off + piece, buf.byteLength));
}

/** Opens an fs-backed store in a temp dir (no fsync: benchmarks measure CPU and page cache). */
export function benchStore(tag: string, options: StoreOptions = {}): { store: Store; dir: string } {
  const dir = tempDir(tag);
  return { store: openStore({ dir, fsync: false, ...options }), dir };
}

/** Uploads `data` and returns its manifest. */
export async function putFile(store: Store, data: Uint8Array, name = 'bench.bin'): Promise<Manifest> {
  const last = await lastValueFrom(store.upload(data, { name }));
  if (last.type !== 'committed') throw new Error('upload did not commit');
  return store.manifest(last.file.id);
}

/** Consumes a byte Observable, returning the byte count (and calling `probe` per chunk). */
export function drain(bytes$: Observable<Uint8Array>, probe?: () => void): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    bytes$.subscribe({
      next: (b) => {
        n += b.byteLength;
        probe?.();
      },
      error: reject,
      complete: () => resolve(n),
    });
  });
}

export function expectBytes(got: number, want: number, what: string): void {
  if (got !== want) throw new Error(`${what}: got ${got} bytes, expected ${want}`);
}

/**
 * A store that drops chunk bytes (put resolves at once) and keeps the small objects (manifests,
 * sessions) in memory: measures the engine's own work without the kernel's write path.
 */
export function discardChunksStore(): ChunkStore {
  const inner = createMemoryStore();
  return {
    ...inner,
    name: 'discard',
    put: (key, data, options) => (key.startsWith('chunks/') ? Promise.resolve({ created: true }) : inner.put(key, data, options)),
  };
}

/**
 * A store directory holding one file of `size` random bytes (uploaded through the engine, so
 * it has a manifest) and the same bytes as a plain file, for the reference servers.
 */
export async function prepareBigFile(
  tag: string,
  size: number,
): Promise<{ dir: string; id: string; plain: string; size: number; chunkSize: number }> {
  const dir = tempDir(tag);
  const plainDir = tempDir(`${tag}-plain`);
  const plain = path.join(plainDir, 'file.bin');
  const data = randomBuffer(size);
  writeFileSync(plain, data);
  const store = openStore({ dir, fsync: false });
  const m = await putFile(store, data, 'big.bin');
  await store.close();
  return { dir, id: m.id, plain, size, chunkSize: m.chunkSize };
}
