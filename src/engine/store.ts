import { Observable, lastValueFrom, toArray } from 'rxjs';
import type { Readable } from 'node:stream';
import { Catalog } from '../catalog/catalog.js';
import { collectGarbage, verifyFiles } from './gc.js';
import type { GcOptions, GcReport, RepairReport, VerifyReport } from './gc-types.js';
import { damagedKeys, damageOf } from './damage.js';
import { repairFiles } from './repair.js';
import { fileInfo, isCommittedUpload, type FileInfo, type Manifest, type UploadRecord } from '../catalog/schema.js';
import { checkId } from '../catalog/model.js';
import { AbortError, isChunkstreamError } from '../errors.js';
import { HeldBytes } from '../internal/gauge.js';
import { ChunkCache, type CacheStats } from '../internal/chunk-cache.js';
import { toReadable } from '../node.js';
import { fromPull } from '../operators/fromPull.js';
import { mergeMapBounded } from '../operators/mergeMapBounded.js';
import { resolveStoreOptions, type ResolvedStoreOptions, type StoreOptions } from '../options.js';
import { createFsStore } from '../storage/fs.js';
import type { CallOptions, ChunkStore } from '../storage/types.js';
import { markedManifest } from './committed.js';
import { settled, unpark, type EngineContext } from './context.js';
import { download, readPlan, type DownloadOptions } from './download.js';
import { planDownload, type ByteRange, type DownloadPlan } from './plan.js';
import { upload, type UploadEvent, type UploadOptions, type UploadSource } from './upload.js';
import { listUploads, type UploadInfo } from './uploads.js';
import { notify, type StoreObserver } from './observer.js';
import type { ListQuery } from '../catalog/names.js';
import { createObjectNameIndex } from '../storage/name-index-objects.js';
import { ensureMigrated } from './migrate.js';
import { copyName, listAll, listPage, lookup, moveName, removeName, unbindFile } from './names.js';
import type { ListItem, ListPage, MigrationReport, NameBinding, NameConditions } from './names-types.js';

export interface UploadStatus {
  uploadId: string;
  name: string;
  /** Bytes durably stored: a resumed upload's source starts here. */
  offset: number;
  /** The file's declared size, if one was given (an expected size, a tus Upload-Length). */
  length?: number;
  chunkSize: number;
  expires: string;
  /** The media type and client metadata the upload was created with, if any. */
  type?: string;
  metadata?: string;
  /** Set once the upload has committed (offset is then the file's size): a resume reports this file. */
  committed?: FileInfo;
}

/** One open store: the embedded Observable API. */
export interface Store {
  readonly options: ResolvedStoreOptions;
  /** Bytes held by all transfers of this store right now, and the peak. */
  readonly gauge: HeldBytes;
  readonly chunkStore: ChunkStore;
  /** The chunk cache's counters and size (cacheBytes; all zero without one). */
  readonly cache: Readonly<CacheStats>;
  upload(source: UploadSource, options: UploadOptions): Observable<UploadEvent>;
  uploadStatus(uploadId: string, options?: CallOptions): Promise<UploadStatus>;
  abortUpload(uploadId: string, options?: CallOptions): Promise<void>;
  /** Unfinished uploads (id, name, offset, age), oldest first. */
  listUploads(options?: CallOptions): Promise<UploadInfo[]>;
  download(id: string, options?: DownloadOptions): Observable<Uint8Array>;
  /** What a download of `id` (or of its `range`) will read and hold: decided before any byte moves. */
  plan(id: string, options?: CallOptions & { range?: ByteRange }): Promise<DownloadPlan>;
  /** The bytes of a plan, in order (see DownloadOptions: demand, lend, concurrency). */
  read(plan: DownloadPlan, options?: Omit<DownloadOptions, 'range'>): Observable<Uint8Array>;
  /** Downloads a manifest already read (saves a read when the caller needed it anyway). */
  downloadManifest(manifest: Manifest, options?: DownloadOptions): Observable<Uint8Array>;
  /** A Node Readable with backpressure: one chunk is read ahead per `read()`, within the window. */
  readable(id: string, options?: Omit<DownloadOptions, 'demand'>): Readable;
  stat(id: string, options?: CallOptions): Promise<FileInfo>;
  manifest(id: string, options?: CallOptions): Promise<Manifest>;
  /** Every file (all manifests, named or not), oldest first: reads every manifest. */
  list(options?: CallOptions): Promise<FileInfo[]>;
  /**
   * One page of the name space (a query with any of prefix, delimiter, limit, cursor): names in
   * ascending UTF-8 byte order, folders derived at the delimiter; `next` continues it. O(page).
   */
  list(query: ListQuery & CallOptions): Promise<ListPage>;
  /** Every file and folder of a listing, lazily: a page is read only when the previous one is consumed. */
  listAll(query?: Omit<ListQuery, 'cursor'> & CallOptions): AsyncIterable<ListItem>;
  /** The file a name holds (`not_found` if none). */
  lookup(name: string, options?: CallOptions): Promise<FileInfo>;
  /** Stores to a name (S3 key rules): replaces the name's file atomically, under `ifNoneMatch: '*'` / `ifMatch: etag`. */
  uploadTo(name: string, source: UploadSource, options?: Omit<UploadOptions, 'name' | 'replace' | 'uploadId'>): Observable<UploadEvent>;
  /** A new file at `to` naming the same chunks (no byte moves); `to`'s old file, if any, is replaced. */
  copy(from: string, to: string, options?: NameConditions & CallOptions): Promise<NameBinding>;
  /** Copy, then `from` goes: the file gets a new id under its new name. */
  move(from: string, to: string, options?: NameConditions & CallOptions): Promise<NameBinding>;
  /** Removes a name and its file (`ifMatch`: only if it still holds that one). */
  removeName(name: string, options?: Pick<NameConditions, 'ifMatch'> & CallOptions): Promise<FileInfo>;
  /** Fills the name index from the manifests of a store written before it (once; later calls return the first report). */
  migrateNames(options?: CallOptions): Promise<MigrationReport>;
  remove(id: string, options?: CallOptions): Promise<FileInfo>;
  gc(options?: GcOptions): Promise<GcReport>;
  verify(id?: string, options?: CallOptions): Promise<VerifyReport>;
  /**
   * Re-checks the files that name a chunk found damaged (moved aside as corrupt, or missing) and
   * reports each `whole` (an upload stored the chunk again) or `damaged`; notes of chunks whole
   * again are dropped. Reads only those chunks.
   */
  repair(id?: string, options?: CallOptions): Promise<RepairReport>;
  /** Reports transfers and verify reports to `observer` (metrics, logs) until the returned function is called. */
  observe(observer: StoreObserver): () => void;
  /** Aborts transfers in flight (nothing half-written becomes visible) and releases the backend. */
  close(): Promise<void>;
}

const LIST_CONCURRENCY = 16;

const isPageQuery = (o: object): o is ListQuery => ['prefix', 'delimiter', 'limit', 'cursor'].some((k) => k in o);

function conditions(o: NameConditions): NameConditions {
  return {
    ...(o.ifNoneMatch !== undefined ? { ifNoneMatch: o.ifNoneMatch } : {}),
    ...(o.ifMatch !== undefined ? { ifMatch: o.ifMatch } : {}),
  };
}

function committedStatus(found: UploadRecord, m: Manifest): UploadStatus {
  return { uploadId: found.uploadId, name: m.name, offset: m.size, chunkSize: m.chunkSize, expires: found.expires, committed: fileInfo(m) };
}

export function openStore(options: StoreOptions = {}): Store {
  const resolved = resolveStoreOptions(options);
  const owned = !resolved.chunkStore;
  const chunkStore = resolved.chunkStore ?? createFsStore(resolved.dir, { fsync: resolved.fsync });
  const ctx: EngineContext = {
    store: chunkStore,
    catalog: new Catalog(chunkStore),
    names: chunkStore.names ?? createObjectNameIndex(chunkStore),
    options: resolved,
    gauge: new HeldBytes(),
    live: new Map(),
    settling: new Map(),
    transfers: new Set(),
    parked: new Map(),
    observers: new Set(),
    cache: resolved.cacheBytes > 0 ? new ChunkCache(resolved.cacheBytes) : undefined,
    closed: false,
  };
  const open = () => {
    if (ctx.closed) throw new AbortError('the store is closed');
  };

  const store: Store = {
    options: resolved,
    gauge: ctx.gauge,
    chunkStore,
    cache: ctx.cache?.stats ?? { hits: 0, misses: 0, inserts: 0, evictions: 0, bytes: 0, limit: 0, entries: 0 },
    upload: (source, o) => (open(), upload(ctx, source, o)),
    async uploadStatus(uploadId, o = {}) {
      open();
      await settled(ctx, uploadId);
      const found = await ctx.catalog.loadUpload(uploadId, o);
      if (isCommittedUpload(found)) return committedStatus(found, await markedManifest(ctx, found, o));
      const m = found.fileId ? await ctx.catalog.findManifest(found.fileId, o) : undefined; // a commit cut off before its marker
      if (m) return committedStatus(found, m);
      const offset = found.size + (found.tail?.size ?? 0);
      const { name, length, chunkSize, expires, type, metadata } = found;
      return {
        uploadId,
        name,
        offset,
        length,
        chunkSize,
        expires,
        ...(type !== undefined ? { type } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
      };
    },
    async abortUpload(uploadId, o = {}) {
      open();
      await settled(ctx, uploadId);
      unpark(ctx, uploadId, -1);
      // A committed upload's marker just goes: the file stays.
      if (isCommittedUpload(await ctx.catalog.loadUpload(uploadId, o))) await ctx.catalog.deleteCommitted(uploadId, o);
      else await ctx.catalog.deleteSession(uploadId, o);
    },
    listUploads: (o = {}) => (open(), listUploads(ctx, o)),
    download: (id, o = {}) => (open(), checkId(id), download(ctx, id, o)),
    async plan(id, o = {}) {
      return planDownload(await store.manifest(id, { signal: o.signal }), o.range);
    },
    read: (plan, o = {}) => (open(), readPlan(ctx, plan, o)),
    downloadManifest: (m, o = {}) => (open(), readPlan(ctx, planDownload(m, o.range), o)),
    readable: (id, o = {}) => toReadable((demand$) => store.download(id, { ...o, demand: demand$ })),
    async stat(id, o = {}) {
      const m = await store.manifest(id, o);
      const damaged = await damageOf(chunkStore, m, await damagedKeys(chunkStore, o), o);
      return { ...fileInfo(m), ...(damaged.length ? { damaged } : {}) };
    },
    async manifest(id, o = {}) {
      open();
      return ctx.catalog.readManifest(id, o);
    },
    async list(o: CallOptions & ListQuery = {}): Promise<never> {
      open();
      if (isPageQuery(o)) return listPage(ctx, o) as Promise<never>;
      // Manifests are read LIST_CONCURRENCY at a time (round trips add up on S3).
      const ids = fromPull(ctx.catalog.fileIds(o));
      const files = await lastValueFrom(
        ids.values$.pipe(
          mergeMapBounded(
            async (id: string) => {
              try {
                return [fileInfo(await ctx.catalog.readManifest(id, o))];
              } catch (err) {
                // One corrupt or vanished manifest must not hide the others: verify() reports it.
                if (isChunkstreamError(err) && ['corrupt_manifest', 'not_found'].includes(err.code)) return [];
                throw err;
              }
            },
            LIST_CONCURRENCY,
            { request: ids.request },
          ),
          toArray(),
        ),
      ).then((lists) => lists.flat());
      return files.sort((a, b) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id)) as never;
    },
    listAll: (q = {}) => (open(), listAll(ctx, q)),
    lookup: (name, o = {}) => (open(), lookup(ctx, name, o)),
    uploadTo: (name, source, o = {}) => store.upload(source, { ...o, name, replace: true }),
    copy: (from, to, o = {}) => (open(), copyName(ctx, from, to, conditions(o), { signal: o.signal })),
    move: (from, to, o = {}) => (open(), moveName(ctx, from, to, conditions(o), { signal: o.signal })),
    removeName: (name, o = {}) => (open(), removeName(ctx, name, conditions(o), { signal: o.signal })),
    migrateNames: (o = {}) => (open(), ensureMigrated(ctx, o)),
    async remove(id, o = {}) {
      const info = await store.stat(id, o);
      await unbindFile(ctx, info, o); // the name first: a crash between leaves the file by id, never a name on nothing
      await ctx.catalog.removeManifest(id, o);
      return info;
    },
    gc: (o = {}) => (open(), collectGarbage(ctx, o)),
    async verify(id, o = {}) {
      open();
      const report = await verifyFiles(ctx, id, o);
      notify(ctx.observers, (x) => x.verify?.(report));
      return report;
    },
    repair: (id, o = {}) => (open(), repairFiles(ctx, id, o)),
    observe(observer) {
      ctx.observers.add(observer);
      return () => void ctx.observers.delete(observer);
    },
    async close() {
      if (ctx.closed) return;
      ctx.closed = true;
      for (const c of ctx.transfers) c.abort(new AbortError('the store was closed'));
      for (const p of ctx.parked.values()) p.hash.drop();
      ctx.parked.clear();
      ctx.cache?.clear();
      // Interrupted uploads record their progress before the backend goes away.
      await Promise.all(ctx.settling.values());
      if (owned) await chunkStore.close?.();
    },
  };
  return store;
}
