import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Gives slab memory back to the system.
 *
 * V8 does not count a SharedArrayBuffer's backing store as external memory, so dropping slabs
 * never makes it collect: measured on Node 20, 500 dropped 4 MiB slabs stay resident (2 GB RSS)
 * until something else fills the JS heap, which in a server moving bytes may be never. And a
 * hash thread that was sent a slab holds its own handle on the same backing store, freed only by
 * *that* thread's collector. So whoever drops a slab tells `dropped(bytes)`; past
 * `GARBAGE_LIMIT` dropped bytes (and once more when dropping stops, for the last ones) a full
 * collection runs here and in every registered collector (the hash threads), and the memory
 * goes back (slabs are mappings of their own, slabs.ts: their free is an munmap).
 *
 * A slab may still be referenced when it is dropped (a socket finishing a write, a read in flight
 * into it), so a collection then frees nothing. Each dropped slab's buffer is watched through a
 * WeakRef: while any is still alive after a collection, another one follows (50 ms, doubling to
 * 2 s), so the memory goes back as soon as its last user lets go, and the collections stop when
 * nothing dropped is left. One more runs `TRAILING_MS` later for the hash threads' handles.
 */
export const GARBAGE_LIMIT = 64 * 1024 * 1024;
export const TRAILING_MS = 2_000;
const FIRST_RETRY_MS = 50;

type Collector = () => void;
const collectors = new Set<Collector>();
let gcFn: (() => void) | undefined | null;
let garbage = 0;
let collections = 0;
/** Dropped slab buffers not yet collected (in this isolate). */
let alive: WeakRef<SharedArrayBuffer>[] = [];
let timer: NodeJS.Timeout | undefined;
let due = Infinity;
let retryMs = FIRST_RETRY_MS;

/**
 * The engine's full-collection hook. `--expose-gc` is set before any hash thread starts, so
 * the threads' isolates have `gc` too (V8 flags are per process).
 */
export function collectGarbage(): (() => void) | undefined {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null; // a runtime without V8 flags: memory comes back only at V8's own pace
    }
  }
  return gcFn ?? undefined;
}

/** Registers a collector run with every collection (a hash thread asking its isolate to collect). */
export function onCollect(c: Collector): () => void {
  collectors.add(c);
  return () => collectors.delete(c);
}

/** A slab's buffer was dropped: `bytes` of it are resident, and go once it is collected. */
export function dropped(sab: SharedArrayBuffer, bytes: number): void {
  alive.push(new WeakRef(sab));
  garbage += bytes;
  // Every GARBAGE_LIMIT bytes at once; else after the current back-off (50 ms when nothing dropped
  // is left alive): drops that keep coming while some are still held do not collect every 50 ms.
  schedule(garbage >= GARBAGE_LIMIT ? 0 : retryMs);
}

function schedule(ms: number): void {
  const at = Date.now() + ms;
  if (timer && at >= due) return;
  clearTimeout(timer);
  due = at;
  timer = setTimeout(tick, ms).unref();
}

function tick(): void {
  timer = undefined;
  due = Infinity;
  const had = alive.length;
  collect();
  // WeakRefs are cleared by the collection that found their buffer unreachable.
  alive = alive.filter((ref) => ref.deref() !== undefined);
  if (alive.length > 0) {
    schedule(retryMs);
    retryMs = Math.min(retryMs * 2, TRAILING_MS);
  } else {
    retryMs = FIRST_RETRY_MS;
    if (had > 0) schedule(TRAILING_MS); // the hash threads let go of theirs by then
  }
}

/** Runs a full collection now, here and in every collector. */
export function collect(): void {
  garbage = 0;
  collections++;
  collectGarbage()?.();
  for (const c of collectors) c();
}

/** Dropped slabs still referenced somewhere in this isolate, as of the last collection. */
export function droppedAlive(): number {
  return alive.length;
}

/** Collections run so far (tests and diagnostics). */
export function collectionCount(): number {
  return collections;
}
