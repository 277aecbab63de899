import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * SHA-256 of chunks on worker threads, so hashing overlaps I/O waits and other work instead of
 * running on the event loop. Bytes reach a worker without a second copy:
 * - `owned` (the caller owns the only reference, e.g. a buffer just read from a store): its
 *   ArrayBuffer is *transferred* to the worker and back (zero copies); the caller must use the
 *   returned `data` (the original view is detached);
 * - otherwise the bytes are copied once into a reusable SharedArrayBuffer slab the worker reads
 *   (the source may be the user's buffer; a memcpy into a warm slab costs ~1/5 of the hash).
 *   Idle slabs are kept for reuse: at most 2 per thread, each ≤ 64 MiB.
 * (An owned view that does not span its whole ArrayBuffer is copied like the rest.) Small inputs
 * (< `minBytes`) and a disabled pool hash inline; callers check `usesHashPool` first to keep the
 * inline path synchronous, exactly as before the pool.
 *
 * Opt-in: off (0 threads) unless `configureHashPool({ threads })` or CHUNKSTREAM_HASH_THREADS=N
 * says otherwise — on the shared 2-core machine of bench/ the pool lost to inline hashing
 * (see docs/benchmarks.md); it can win where spare cores exist. Workers start lazily, are ref'd
 * only while they have work (an idle pool never keeps a process alive; a pending digest does),
 * and are replaced if one dies.
 */
export interface HashPoolOptions {
  /** Worker threads; 0 hashes inline on the calling thread. */
  threads?: number;
  /** Inputs smaller than this are hashed inline (a round trip costs ~50–100 µs). Default 256 KiB. */
  minBytes?: number;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', (m) => {
  let hex, error;
  try {
    hex = createHash('sha256').update(new Uint8Array(m.buffer, m.offset, m.length)).digest('hex');
  } catch (e) {
    error = String(e && e.message || e);
  }
  // A transferred buffer goes back to its owner; a shared slab stays shared (nothing to send).
  if (m.shared) parentPort.postMessage({ id: m.id, hex, error });
  else parentPort.postMessage({ id: m.id, hex, error, buffer: m.buffer }, [m.buffer]);
});
`;

interface Task {
  resolve: (r: { hex: string; buffer?: ArrayBuffer }) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Task>;
}

function envThreads(): number | undefined {
  const v = process.env.CHUNKSTREAM_HASH_THREADS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

let threads = envThreads() ?? 0;
let minBytes = 256 * 1024;
let slots: Slot[] = [];
let nextId = 1;

/** Changes the pool size (0 = hash inline) and threshold; running workers beyond the new size are stopped once idle. */
export function configureHashPool(options: HashPoolOptions): void {
  if (options.threads !== undefined) {
    if (!(Number.isInteger(options.threads) && options.threads >= 0 && options.threads <= 64))
      throw new RangeError(`threads must be an integer in 0..64 (got ${options.threads})`);
    threads = options.threads;
    const extra = slots.slice(threads);
    slots = slots.slice(0, threads);
    for (const s of extra) retire(s);
  }
  if (options.minBytes !== undefined) {
    if (!(Number.isInteger(options.minBytes) && options.minBytes >= 0))
      throw new RangeError(`minBytes must be a non-negative integer (got ${options.minBytes})`);
    minBytes = options.minBytes;
  }
}

export function hashPoolConfig(): Required<HashPoolOptions> {
  return { threads, minBytes };
}

/** A sensible pool size for this machine: min(4, available cores). */
export function suggestedHashThreads(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

/** Whether `sha256HexPooled` would use a worker for `byteLength` bytes (else hash inline, synchronously). */
export function usesHashPool(byteLength: number): boolean {
  return threads > 0 && byteLength >= minBytes;
}

/** Stops a worker no longer in the pool: now if idle, else after its last digest (see spawn). */
function retire(s: Slot): void {
  if (s.pending.size === 0) void s.worker.terminate();
}

function spawn(): Slot {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  const slot: Slot = { worker, pending: new Map() };
  worker.on('message', (m: { id: number; hex?: string; error?: string; buffer?: ArrayBuffer }) => {
    const t = slot.pending.get(m.id);
    if (!t) return;
    slot.pending.delete(m.id);
    if (slot.pending.size === 0) {
      worker.unref(); // idle: never keeps the process alive
      if (!slots.includes(slot)) void worker.terminate(); // retired by configureHashPool
    }
    if (m.error !== undefined || m.hex === undefined) t.reject(new Error(`hash worker: ${m.error ?? 'no digest'}`));
    else t.resolve({ hex: m.hex, buffer: m.buffer });
  });
  const die = (err: Error) => {
    const i = slots.indexOf(slot);
    if (i >= 0) slots.splice(i, 1); // replaced on next use
    for (const t of slot.pending.values()) t.reject(err);
    slot.pending.clear();
  };
  worker.on('error', die);
  worker.on('exit', (code) => die(new Error(`hash worker exited (code ${code})`)));
  worker.unref(); // after the listeners: adding a 'message' listener refs the port again
  return slot;
}

function pick(): Slot {
  while (slots.length < threads) slots.push(spawn());
  let best = slots[0]!;
  for (const s of slots) if (s.pending.size < best.pending.size) best = s;
  return best;
}

function inline(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Hex SHA-256 of `data`, computed on a worker thread when worthwhile. Resolves to the digest and
 * the bytes: `data` itself, or (owned mode, transferred) a new view of the same bytes.
 */
export async function sha256HexPooled(data: Uint8Array, options: { owned?: boolean } = {}): Promise<{ hex: string; data: Uint8Array }> {
  const length = data.byteLength;
  if (!usesHashPool(length)) return { hex: inline(data), data };
  const whole = data.byteOffset === 0 && length === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;
  const transfer = options.owned === true && whole;
  let slab: SharedArrayBuffer | undefined;
  let buffer: ArrayBuffer | SharedArrayBuffer;
  if (transfer) buffer = data.buffer as ArrayBuffer;
  else {
    slab = takeSlab(length);
    new Uint8Array(slab, 0, length).set(data);
    buffer = slab;
  }
  const slot = pick();
  const id = nextId++;
  const done = new Promise<{ hex: string; buffer?: ArrayBuffer }>((resolve, reject) => slot.pending.set(id, { resolve, reject }));
  if (slot.pending.size === 1) slot.worker.ref(); // busy: the process waits for the digest
  try {
    slot.worker.postMessage({ id, buffer, offset: 0, length, shared: !transfer }, transfer ? [buffer as ArrayBuffer] : []);
  } catch (err) {
    // Not transferable after all (an untransferable Node buffer): hash here, nothing was moved.
    slot.pending.delete(id);
    if (slot.pending.size === 0) slot.worker.unref();
    if (slab) giveSlab(slab);
    if (data.byteLength === length) return { hex: inline(data), data };
    throw err;
  }
  try {
    const r = await done;
    return { hex: r.hex, data: transfer ? new Uint8Array(r.buffer!, 0, length) : data };
  } finally {
    if (slab) giveSlab(slab);
  }
}

const MAX_SLAB = 64 * 1024 * 1024;
const slabs: SharedArrayBuffer[] = [];

/** A free slab of at least `n` bytes (and not wastefully larger), or a new one. */
function takeSlab(n: number): SharedArrayBuffer {
  const i = slabs.findIndex((s) => s.byteLength >= n && s.byteLength <= 2 * n);
  if (i >= 0) return slabs.splice(i, 1)[0]!;
  return new SharedArrayBuffer(n);
}

function giveSlab(s: SharedArrayBuffer): void {
  if (s.byteLength <= MAX_SLAB && slabs.length < 2 * Math.max(1, threads)) slabs.push(s);
}
