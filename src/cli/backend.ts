import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { lastValueFrom, tap } from 'rxjs';
import type { GcOptions, GcReport, RepairReport, VerifyReport } from '../engine/gc-types.js';
import { DEFAULT_GC_LEASE_MS, GcRunningError, underGcLease } from '../engine/gc-lease.js';
import type { FileInfo } from '../catalog/schema.js';
import { openStore, type Store, type UploadStatus } from '../engine/store.js';
import type { UploadInfo } from '../engine/uploads.js';
import { InternalError } from '../errors.js';
import { parseRangeHeader } from '../protocol/http-ranges.js';
import { openChunkStore } from '../storage/open.js';
import type { LocalLocation } from './location.js';
import { checkS3Store } from './s3-check.js';
import { backendConcurrency } from '../options.js';

/** One upload, as `put` asks for it. */
export interface PutSpec {
  name: string;
  /** Known up front for regular files: the store refuses to commit anything else. */
  size?: number;
  /** Set on a resume: the store refuses to commit unless the whole file hashes to it. */
  sha256?: string;
  /** Resume this upload. */
  uploadId?: string;
  /** The bytes from `offset` (where the store says the upload stands). */
  source: (offset: number) => Readable;
  /**
   * A regular file's path: a local store reads it in place instead of `source`, with positional
   * reads straight into its chunk buffers (from the offset a resume starts at).
   */
  file?: string;
  /** Bytes stored so far, when the backend reads `file` itself (progress). */
  onStored?: (bytes: number) => void;
  signal: AbortSignal;
  /** The store accepted the upload: its id, and the offset it continues from. */
  onStarted?: (uploadId: string, offset: number) => void;
}

export interface Download {
  body: Readable;
  /** Bytes this response carries. */
  length: number;
  /** The whole file's size. */
  size: number;
  /** For whole-file answers: what the bytes must hash to. */
  sha256?: string;
  /** The stored name (its last segment, over HTTP), for progress. */
  name?: string;
}

/** What every command needs, from a local store or from a server (same semantics either way). */
export interface Backend {
  /** Which store, for keys of the resume state: `local:/abs/dir`, `server:http://host:port`. */
  readonly where: string;
  put(spec: PutSpec): Promise<FileInfo>;
  /** `range` is the HTTP form without its unit (`A-B`, `A-`, `-N`). */
  get(id: string, range?: string, signal?: AbortSignal): Promise<Download>;
  list(): Promise<FileInfo[]>;
  stat(id: string): Promise<FileInfo>;
  remove(id: string): Promise<void>;
  gc(options: Pick<GcOptions, 'graceMs' | 'dryRun'>): Promise<GcReport>;
  verify(id?: string): Promise<VerifyReport>;
  /** Re-checks the files that named a damaged chunk: `whole` again (re-uploaded) or still `damaged`. */
  repair(id?: string): Promise<RepairReport>;
  uploads(): Promise<UploadInfo[]>;
  uploadStatus(uploadId: string): Promise<UploadStatus>;
  abortUpload(uploadId: string): Promise<void>;
  close(): Promise<void>;
}

export async function openLocal(o: LocalLocation, mode: 'read' | 'write' = 'write'): Promise<Backend> {
  const chunkStore = await openChunkStore({ ...o, concurrency: backendConcurrency(o) });
  let store: Store;
  try {
    await checkS3Store(chunkStore, o, mode);
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
    where: o.store?.startsWith('s3://') ? `local:${o.store}` : `local:${path.resolve(o.store?.slice('file://'.length) ?? o.dir)}`,
    async put(spec) {
      // A regular file is read in place (positional reads into the engine's buffers), else the stream.
      const handle = spec.file !== undefined ? await open(spec.file, 'r') : undefined;
      try {
        const events = store.upload(handle ?? spec.source, {
          name: spec.name,
          uploadId: spec.uploadId,
          expectedSize: spec.size,
          expectedSha256: spec.sha256,
          signal: spec.signal,
        });
        const last = await lastValueFrom(
          events.pipe(
            tap((e) => {
              if (e.type === 'started') spec.onStarted?.(e.uploadId, e.offset);
              if (e.type === 'progress') spec.onStored?.(e.bytes);
            }),
          ),
        );
        if (last.type !== 'committed') throw new InternalError('upload ended without a commit');
        return last.file;
      } finally {
        await handle?.close();
      }
    },
    async get(id, range, signal) {
      const info = await store.stat(id);
      const r = range === undefined ? undefined : parseRangeHeader(`bytes=${range}`, info.size);
      const length = r ? r.end - r.start + 1 : info.size;
      return {
        body: store.readable(id, { range: r, signal }),
        length,
        size: info.size,
        sha256: r ? undefined : info.sha256,
        name: info.name,
      };
    },
    list: () => store.list(),
    stat: (id) => store.stat(id),
    remove: async (id) => void (await store.remove(id)),
    // Under the store's gc lease, like a server's runs: never two at once on one store.
    async gc(opts) {
      const holder = `${hostname()}:${process.pid}:cli`;
      const r = await underGcLease(chunkStore, { holder, ttlMs: DEFAULT_GC_LEASE_MS, holderGone: deadHere }, (signal) =>
        store.gc({ ...opts, signal }),
      );
      if (!r.ran) throw new GcRunningError(r.holder, r.expires);
      return r.value;
    },
    verify: (id) => store.verify(id),
    repair: (id) => store.repair(id),
    uploads: () => store.listUploads(),
    uploadStatus: (id) => store.uploadStatus(id),
    abortUpload: (id) => store.abortUpload(id),
    async close() {
      await store.close();
      await chunkStore.close?.();
    },
  };
}

/**
 * A lease holder (`host:pid:…`) of this machine whose process is gone: a gc killed with kill -9.
 * Only a process of this host can be judged; any other holder is taken at its word.
 */
function deadHere(holder: string): boolean {
  const [host, pid] = holder.split(':');
  if (host !== hostname() || !/^\d+$/.test(pid ?? '')) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
