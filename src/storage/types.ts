/**
 * The one storage abstraction. Chunks, manifests and upload sessions are all objects under
 * string keys (`chunks/ab/cd/<sha256>`, `files/<id>.json`, `uploads/<id>.json`), so one
 * directory or one bucket holds the whole store. A backend is a factory returning this object;
 * `openStore({ chunkStore })` accepts any implementation (wrap one to add latency or faults).
 *
 * Contract (checked by test/storage/conformance.ts against every backend):
 * - `put` is atomic: readers see the old state or the whole new object, never a part.
 *   Putting an existing key replaces it. With `ifNotExists` an existing key is left as it is
 *   but its `modified` time is refreshed (gc's grace period relies on it: a chunk deduplicated
 *   by a live upload must look new), and `put` resolves `{ created: false }`.
 * - `get` of a missing key rejects with a `NotFoundError`; `range` is inclusive.
 * - `delete` of a missing key succeeds.
 * - `list(prefix)` yields every key starting with `prefix`, in no particular order.
 * - Every call honours its `signal`: once aborted it rejects with an `AbortError` and leaves
 *   no partial object behind.
 * - Buffers are the caller's: `put` keeps no reference to `data` once it settles, `get` none to
 *   `into` (the engine reuses both for the next chunk).
 *
 * Two fast paths ride on options, so a wrapper that forwards options keeps them and one that
 * does not stays correct: `get(key, { into })` may read into the caller's buffer, and
 * `put(key, data, { defer })` may be staged until `flush`.
 */
import type { NameIndex } from './name-index.js';

export interface ChunkStore {
  /** Short name used in error messages, e.g. `fs`, `memory`, `s3`. */
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  put(key: string, data: Uint8Array, options?: PutOptions): Promise<PutResult>;
  get(key: string, options?: GetOptions): Promise<Uint8Array>;
  /**
   * Optional: makes the deferred puts of `keys` durable and visible, all at once (one flush of
   * many objects costs far less than a sync per object). Keys not staged are left as they are.
   * Only a store with `flush` is ever asked to defer a put.
   */
  flush?(keys: readonly string[], options?: CallOptions): Promise<void>;
  has(key: string, options?: CallOptions): Promise<boolean>;
  delete(key: string, options?: CallOptions): Promise<void>;
  list(prefix: string, options?: CallOptions): AsyncIterable<StoredObject>;
  /**
   * Optional: moves the object at `from` to `to` (replacing `to`), without the bytes passing
   * through the caller: a rename on fs, a server-side copy + delete on S3. Afterwards `from` is
   * absent (a put with `ifNotExists` writes it again). `from` missing rejects with `NotFoundError`.
   * The engine moves corrupt chunks aside with it (quarantine), and copies + deletes without it.
   */
  move?(from: string, to: string, options?: CallOptions): Promise<void>;
  /** Removes the backend's own leftovers (temp files of crashed writes) older than `before`; resolves how many (would) go. */
  sweep?(before: Date, options?: SweepOptions): Promise<number>;
  /**
   * Optional: the store's name index (src/storage/name-index.ts), sorted in byte order and
   * race-free across processes: memory, fs (LMDB) and s3 (the bucket's own listing) bring one;
   * the engine falls back to objects under `names/` for a store without. Wrappers forward it.
   */
  readonly names?: NameIndex;
  /** Releases connections and handles. Optional. */
  close?(): Promise<void>;
}

export interface StoreCapabilities {
  /** `put(..., { ifNotExists })` is enforced by the backend itself (race-free across processes). */
  readonly conditionalPut: boolean;
  /** `get(..., { range })` reads only the range (otherwise it is sliced after a full read). */
  readonly rangeGet: boolean;
  /**
   * `get(..., { lateInto })` takes the buffer only when the bytes come. Without it the engine
   * takes its buffer before the read and passes `into`, so a store that ignores `lateInto` never
   * holds a buffer of its own on top of one the engine took and counted.
   */
  readonly lateInto?: boolean;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface SweepOptions extends CallOptions {
  /** Count what would be removed, remove nothing. */
  dryRun?: boolean;
}

export interface PutOptions extends CallOptions {
  ifNotExists?: boolean;
  /**
   * The put may be staged: neither durable nor visible until `flush([key])` (stores without
   * `flush` ignore it). An upload stages its chunks and flushes them before recording them.
   */
  defer?: boolean;
}

export interface GetOptions extends CallOptions {
  range?: { start: number; end: number };
  /**
   * A buffer the caller reuses (ignored with `range`): the store may read the object from its
   * start into it — up to its length — and resolve with a view of it, instead of a new buffer.
   * Whichever it returns, the result holds the object's first `into.byteLength` bytes at most
   * when it is a view of `into`, and the whole object otherwise.
   */
  into?: Uint8Array;
  /**
   * `into`, taken late: the store calls `take()` (at most once) only when the object's bytes are
   * about to arrive — after a remote store's time to first byte, after a wrapper's delay — and
   * reads into the buffer it resolves (`size` bytes) as it would into `into`. A caller with few
   * buffers can so have more reads waiting out their latency than it has buffers. If `take`
   * rejects, so does `get`. Only asked of a store whose capabilities say `lateInto`.
   */
  lateInto?: LateBuffer;
}

export interface LateBuffer {
  readonly size: number;
  take(): Promise<Uint8Array>;
}

export interface PutResult {
  created: boolean;
}

export interface StoredObject {
  key: string;
  size: number;
  modified: Date;
}

/** Keys are relative, `/`-separated, of safe characters: no backend can be led outside its root. */
const KEY = /^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*)*$/i;

export function isValidKey(key: string): boolean {
  // Every segment starts with a letter or digit, so none can be `.` or `..`.
  return key.length > 0 && key.length <= 512 && KEY.test(key);
}

export function isChunkStore(value: unknown): value is ChunkStore {
  const v = value as Partial<ChunkStore> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    ['put', 'get', 'has', 'delete', 'list'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function')
  );
}
