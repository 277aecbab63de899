import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { InternalError } from '../errors.js';

/**
 * SHA-256 off the event loop, on every core. Chunk digests (upload keys, download verification)
 * run on a piscina pool of `threads` workers; each upload's whole-file hash, which must see its
 * chunks in order, is pinned to one of a few plain worker threads whose messages are handled in
 * arrival order (piscina has no affinity, and may reorder queued tasks). Bytes reach a thread
 * without a copy or a transfer:
 * callers hash views of SharedArrayBuffer slabs (slabs.ts), which workers read in place. Views of
 * ordinary memory, and inputs below `minBytes` (a round trip costs ~0.1–0.3 ms), are hashed inline.
 *
 * Why piscina: queueing, replacement of a dead worker, idle timeouts and unref'd idle threads (an
 * idle pool never keeps a process alive), kept by Node core contributors. Why not one hand-written
 * pool: measured equal for 4–10 MiB chunks (docs/benchmarks.md), and nothing of ours to maintain.
 */
export interface HashingOptions {
  /** Worker threads for chunk digests; 0 hashes everything inline on the calling thread. Default: the machine's cores. */
  threads?: number;
  /** Smaller inputs are hashed inline (default 128 KiB). */
  minBytes?: number;
}

const WORKER = new URL('./hash-worker.js', import.meta.url).href;
const ORDERED_WORKER = new URL('./hash-stream-worker.js', import.meta.url);

function envThreads(): number | undefined {
  const v = process.env.CHUNKSTREAM_HASH_THREADS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 64 ? n : undefined;
}

let threads = envThreads() ?? Math.min(8, availableParallelism());
let minBytes = 128 * 1024;
let digestPool: Piscina | undefined;
let streamThreads: Ordered[] = [];
let nextStreamPool = 0;
let nextStream = 1;

/** Changes the pool size (0 = inline) and threshold; running pools finish their tasks, then close. */
export function configureHashing(options: HashingOptions): void {
  if (options.threads !== undefined) {
    if (!(Number.isInteger(options.threads) && options.threads >= 0 && options.threads <= 64)) {
      throw new RangeError(`threads must be an integer in 0..64 (got ${options.threads})`);
    }
    if (options.threads !== threads) {
      void digestPool?.close().catch(() => undefined);
      for (const o of streamThreads) o.retire();
      digestPool = undefined;
      streamThreads = [];
      threads = options.threads;
    }
  }
  if (options.minBytes !== undefined) {
    if (!(Number.isInteger(options.minBytes) && options.minBytes >= 0)) {
      throw new RangeError(`minBytes must be a non-negative integer (got ${options.minBytes})`);
    }
    minBytes = options.minBytes;
  }
}

export function hashingConfig(): Required<HashingOptions> {
  return { threads, minBytes };
}

/** Hex SHA-256, inline. */
export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const shared = (v: Uint8Array) => v.buffer instanceof SharedArrayBuffer;

function pool(): Piscina {
  // Idle threads stay (they are unref'd): a transfer never waits for a thread to start but the first.
  digestPool ??= new Piscina({ filename: WORKER, minThreads: threads, maxThreads: threads, idleTimeout: 60_000 });
  return digestPool;
}

function failed(err: unknown): never {
  throw new InternalError(`hash thread: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
}

/** Hex SHA-256 of `view`: on a hash thread when it is a large enough slab view, else inline. */
export async function digest(view: Uint8Array): Promise<string> {
  if (threads === 0 || view.byteLength < minBytes || !shared(view)) return sha256Hex(view);
  return (pool().run({ op: 'digest', buf: view.buffer, off: view.byteOffset, len: view.byteLength }) as Promise<string>).catch(failed);
}

/** An incremental hash fed in order: the whole-file SHA-256 of an upload. */
export interface StreamHash {
  /** Adds `view`; it must stay unchanged until the returned promise settles. */
  update(view: Uint8Array): Promise<void>;
  /** Hex digest of everything added; the stream is then over. */
  digest(): Promise<string>;
  /** Abandons the stream (an upload that stops), releasing its state on the thread. */
  drop(): void;
}

/** A new whole-file hash: on its own thread, alongside the chunk digests, unless hashing is inline. */
export function streamHash(): StreamHash {
  if (threads === 0) return inlineStream();
  // Half the cores, at least one: uploads hash their files there while chunk keys use the digest pool.
  if (streamThreads.length === 0) streamThreads = Array.from({ length: Math.max(1, Math.floor(threads / 2)) }, () => new Ordered());
  const p = streamThreads[nextStreamPool++ % streamThreads.length]!;
  const id = nextStream++;
  let seq = 0;
  let over = false;
  return {
    async update(view) {
      // A stream may be fed ordinary memory (a resumed upload's re-read prefix is in slabs too, but callers vary).
      const v = shared(view) ? view : copyToShared(view);
      await (p.run({ op: 'update', id, seq: seq++, buf: v.buffer, off: v.byteOffset, len: v.byteLength }) as Promise<null>).catch(failed);
    },
    async digest() {
      over = true;
      return (p.run({ op: 'final', id, seq }) as Promise<string>).catch(failed);
    },
    drop() {
      if (over) return;
      over = true;
      void p.run({ op: 'drop', id }).catch(() => undefined);
    },
  };
}

function inlineStream(): StreamHash {
  const hash = createHash('sha256');
  return {
    update: async (view) => void hash.update(view),
    digest: async () => hash.digest('hex'),
    drop: () => undefined,
  };
}

function copyToShared(view: Uint8Array): Uint8Array {
  const copy = new Uint8Array(new SharedArrayBuffer(view.byteLength));
  copy.set(view);
  return copy;
}

type Task = Record<string, unknown>;

/**
 * One worker thread whose tasks run in the order they were posted (postMessage is FIFO and the
 * thread handles one message at a time). Ref'd only while a task is pending, so an idle thread
 * never keeps the process alive; if it dies, pending tasks fail and the next task starts a new
 * thread (streams on the old one then fail their next update: their state is gone).
 */
class Ordered {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextReq = 1;
  private retired = false;

  run(task: Task): Promise<unknown> {
    const worker = this.thread();
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ ...task, req });
    });
  }

  /** Stops the thread once its pending tasks are done. */
  retire(): void {
    this.retired = true;
    if (this.pending.size === 0) void this.worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(ORDERED_WORKER);
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('message', (m: { req: number; value?: unknown; error?: string }) => {
      const p = this.pending.get(m.req);
      if (!p) return;
      this.pending.delete(m.req);
      if (this.pending.size === 0) {
        worker.unref();
        if (this.retired) void worker.terminate();
      }
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.value);
    });
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`hash thread exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}
