import type { Observable } from 'rxjs';
import type { Readable } from 'node:stream';
import { Catalog } from '../catalog/catalog.js';
import { collectGarbage, verifyFiles, type GcOptions, type GcReport, type VerifyReport } from '../catalog/gc.js';
import { checkId, fileInfo, type FileInfo, type Manifest } from '../catalog/schema.js';
import { ChunkstreamError, isChunkstreamError } from '../errors.js';
import { HeldBytes } from '../internal/gauge.js';
import { toReadable } from '../node.js';
import { resolveStoreOptions, type ResolvedStoreOptions, type StoreOptions } from '../options.js';
import { createFsStore } from '../storage/fs.js';
import type { CallOptions, ChunkStore } from '../storage/types.js';
import type { EngineContext } from './context.js';
import { download, downloadManifest, type DownloadOptions } from './download.js';
import { upload, type UploadEvent, type UploadOptions, type UploadSource } from './upload.js';

export interface UploadStatus {
  uploadId: string;
  name: string;
  /** Bytes durably stored: a resumed upload's source starts here. */
  offset: number;
  chunkSize: number;
  expires: string;
}

/** One open store: the embedded Observable API. */
export interface Store {
  readonly options: ResolvedStoreOptions;
  /** Bytes held by all transfers of this store right now, and the peak. */
  readonly gauge: HeldBytes;
  readonly chunkStore: ChunkStore;
  upload(source: UploadSource, options: UploadOptions): Observable<UploadEvent>;
  uploadStatus(uploadId: string, options?: CallOptions): Promise<UploadStatus>;
  abortUpload(uploadId: string, options?: CallOptions): Promise<void>;
  download(id: string, options?: DownloadOptions): Observable<Uint8Array>;
  /** Downloads a manifest already read (saves a read when the caller needed it anyway). */
  downloadManifest(manifest: Manifest, options?: DownloadOptions): Observable<Uint8Array>;
  /** A Node Readable with backpressure: one chunk is read ahead per `read()`, within the window. */
  readable(id: string, options?: Omit<DownloadOptions, 'demand'>): Readable;
  stat(id: string, options?: CallOptions): Promise<FileInfo>;
  manifest(id: string, options?: CallOptions): Promise<Manifest>;
  list(options?: CallOptions): Promise<FileInfo[]>;
  remove(id: string, options?: CallOptions): Promise<FileInfo>;
  gc(options?: GcOptions): Promise<GcReport>;
  verify(id?: string, options?: CallOptions): Promise<VerifyReport>;
  /** Aborts transfers in flight (nothing half-written becomes visible) and releases the backend. */
  close(): Promise<void>;
}

export function openStore(options: StoreOptions = {}): Store {
  const resolved = resolveStoreOptions(options);
  const owned = !resolved.chunkStore;
  const chunkStore = resolved.chunkStore ?? createFsStore(resolved.dir, { fsync: resolved.fsync });
  const ctx: EngineContext = { store: chunkStore, catalog: new Catalog(chunkStore), options: resolved, gauge: new HeldBytes(), live: new Map() };
  const closing = new AbortController();
  const withClose = <T extends { signal?: AbortSignal }>(o: T): T => ({
    ...o,
    signal: o.signal ? AbortSignal.any([o.signal, closing.signal]) : closing.signal,
  });
  const open = () => {
    if (closing.signal.aborted) throw new ChunkstreamError('aborted', 'the store is closed');
  };

  const store: Store = {
    options: resolved,
    gauge: ctx.gauge,
    chunkStore,
    upload: (source, o) => (open(), upload(ctx, source, withClose(o))),
    async uploadStatus(uploadId, o = {}) {
      open();
      const s = await ctx.catalog.loadSession(uploadId, o);
      return { uploadId: s.uploadId, name: s.name, offset: s.size, chunkSize: s.chunkSize, expires: s.expires };
    },
    async abortUpload(uploadId, o = {}) {
      open();
      await ctx.catalog.loadSession(uploadId, o);
      await ctx.catalog.deleteSession(uploadId, o);
    },
    download: (id, o = {}) => (open(), checkId(id), download(ctx, id, withClose(o))),
    downloadManifest: (m, o = {}) => (open(), downloadManifest(ctx, m, withClose(o))),
    readable: (id, o = {}) => toReadable((demand$) => store.download(id, { ...o, demand: demand$ })),
    async stat(id, o = {}) {
      return fileInfo(await store.manifest(id, o));
    },
    async manifest(id, o = {}) {
      open();
      return ctx.catalog.readManifest(id, o);
    },
    async list(o = {}) {
      open();
      const files: FileInfo[] = [];
      for await (const id of ctx.catalog.fileIds(o)) {
        try {
          files.push(fileInfo(await ctx.catalog.readManifest(id, o)));
        } catch (err) {
          // One corrupt or vanished manifest must not hide the others: verify() reports it.
          if (!isChunkstreamError(err) || !['corrupt_manifest', 'not_found'].includes(err.code)) throw err;
        }
      }
      return files.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id));
    },
    async remove(id, o = {}) {
      const info = await store.stat(id, o);
      await ctx.catalog.removeManifest(id, o);
      return info;
    },
    gc: (o = {}) => (open(), collectGarbage(ctx, o)),
    verify: (id, o = {}) => (open(), verifyFiles(ctx, id, o)),
    async close() {
      if (closing.signal.aborted) return;
      closing.abort(new ChunkstreamError('aborted', 'the store was closed'));
      if (owned) await chunkStore.close?.();
    },
  };
  return store;
}
