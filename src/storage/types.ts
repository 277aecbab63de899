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
 */
export interface ChunkStore {
  /** Short name used in error messages, e.g. `fs`, `memory`, `s3`. */
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  put(key: string, data: Uint8Array, options?: PutOptions): Promise<PutResult>;
  get(key: string, options?: GetOptions): Promise<Uint8Array>;
  has(key: string, options?: CallOptions): Promise<boolean>;
  delete(key: string, options?: CallOptions): Promise<void>;
  list(prefix: string, options?: CallOptions): AsyncIterable<StoredObject>;
  /** Removes the backend's own leftovers (temp files of crashed writes) older than `before`; resolves how many (would) go. */
  sweep?(before: Date, options?: SweepOptions): Promise<number>;
  /** Releases connections and handles. Optional. */
  close?(): Promise<void>;
}

export interface StoreCapabilities {
  /** `put(..., { ifNotExists })` is enforced by the backend itself (race-free across processes). */
  readonly conditionalPut: boolean;
  /** `get(..., { range })` reads only the range (otherwise it is sliced after a full read). */
  readonly rangeGet: boolean;
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
}

export interface GetOptions extends CallOptions {
  range?: { start: number; end: number };
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
  return key.length > 0 && key.length <= 512 && KEY.test(key) && !key.split('/').some((p) => p === '..' || p === '.');
}

export function isChunkStore(value: unknown): value is ChunkStore {
  const v = value as Partial<ChunkStore> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    ['put', 'get', 'has', 'delete', 'list'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function')
  );
}
