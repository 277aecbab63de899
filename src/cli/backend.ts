import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { lastValueFrom, tap } from 'rxjs';
import type { GcOptions, GcReport, VerifyReport } from '../engine/gc.js';
import type { FileInfo } from '../catalog/schema.js';
import { openStore, type Store } from '../engine/store.js';
import { ChunkstreamError } from '../errors.js';
import { parseRangeHeader } from '../gateway/http-util.js';
import { openChunkStore, type StoreLocation } from '../storage/open.js';

/** What every command needs, from a local store or from a server (same semantics either way). */
export interface Backend {
  /** A regular file comes as a FileHandle (read in place, positionally); anything else as a stream. `onBytes` reports bytes stored so far. */
  put(source: Readable | FileHandle, name: string, size?: number, onBytes?: (stored: number) => void): Promise<FileInfo>;
  /**
   * `range` is the HTTP form without its unit (`A-B`, `A-`, `-N`). `sha256` is set when the
   * caller must check the whole body against it; a local store's bytes come verified chunk by chunk.
   */
  get(id: string, range?: string): Promise<{ body: Readable; length: number; size: number; sha256?: string }>;
  list(): Promise<FileInfo[]>;
  stat(id: string): Promise<FileInfo>;
  remove(id: string): Promise<void>;
  gc(options: Pick<GcOptions, 'graceMs' | 'dryRun'>): Promise<GcReport>;
  verify(id?: string): Promise<VerifyReport>;
  close(): Promise<void>;
}

export interface LocalOptions extends StoreLocation {
  chunkSize?: number;
  uploadConcurrency?: number;
  downloadConcurrency?: number;
}

export async function openLocal(o: LocalOptions): Promise<Backend> {
  const chunkStore = await openChunkStore({ ...o, concurrency: (o.uploadConcurrency ?? 4) + (o.downloadConcurrency ?? 4) });
  let store: Store;
  try {
    store = openStore({
      chunkStore,
      chunkSize: o.chunkSize,
      uploadConcurrency: o.uploadConcurrency,
      downloadConcurrency: o.downloadConcurrency,
    });
  } catch (err) {
    await chunkStore.close?.();
    throw err;
  }
  return {
    async put(source, name, size, onBytes) {
      const events = store.upload(source, { name, expectedSize: size }).pipe(tap((e) => e.type === 'progress' && onBytes?.(e.bytes)));
      const last = await lastValueFrom(events);
      if (last.type !== 'committed') throw new ChunkstreamError('internal', 'upload ended without a commit');
      return last.file;
    },
    async get(id, range) {
      const info = await store.stat(id);
      const r = range === undefined ? undefined : parseRangeHeader(`bytes=${range}`, info.size);
      const length = r ? r.end - r.start + 1 : info.size;
      // Every chunk is checked against its SHA-256 before the engine hands it on: no second pass.
      return { body: store.readable(id, { range: r }), length, size: info.size };
    },
    list: () => store.list(),
    stat: (id) => store.stat(id),
    remove: async (id) => void (await store.remove(id)),
    gc: (opts) => store.gc(opts),
    verify: (id) => store.verify(id),
    async close() {
      await store.close();
      await chunkStore.close?.();
    },
  };
}
