import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { HashThreads } from './hash-threads.js';

/**
 * SHA-256 off the event loop, on every core. Chunk digests (upload keys, download verification)
 * go to the least busy of `threads` hash threads; each upload's whole-file hash, which must see
 * its chunks in order, is pinned to one thread, whose tasks run in the order they were posted.
 * Bytes reach a thread without a copy or a transfer: callers hash views of SharedArrayBuffer
 * slabs (slabs.ts), which threads read in place. Views of ordinary memory, and inputs below
 * `minBytes` (a round trip costs ~0.1 ms), are hashed inline.
 *
 * Why not piscina (tried first): its threads may run queued tasks out of order, so the whole-file
 * hash needed a thread of its own anyway; a round trip cost ~2× ours; and loading it took
 * 60–160 ms of every CLI command's start. What it adds beyond hash-threads.ts (queues, resource
 * limits, niceness) this does not need.
 */
export interface HashingOptions {
  /** Hash threads; 0 hashes everything inline on the calling thread. Default: the machine's cores (at most 8). */
  threads?: number;
  /** Smaller inputs are hashed inline (default 128 KiB). */
  minBytes?: number;
}

function envThreads(): number | undefined {
  const v = process.env.CHUNKSTREAM_HASH_THREADS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 64 ? n : undefined;
}

let threads = envThreads() ?? Math.min(8, availableParallelism());
let minBytes = 128 * 1024;
let pool: HashThreads | undefined;
let nextStream = 1;

/** Changes the number of threads (0 = inline) and the threshold; running threads finish their tasks, then stop. */
export function configureHashing(options: HashingOptions): void {
  if (options.threads !== undefined) {
    if (!(Number.isInteger(options.threads) && options.threads >= 0 && options.threads <= 64)) {
      throw new RangeError(`threads must be an integer in 0..64 (got ${options.threads})`);
    }
    if (options.threads !== threads) {
      pool?.retire();
      pool = undefined;
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
const threadsNow = () => (pool ??= new HashThreads(threads));

/** Hex SHA-256 of `view`: on a hash thread when it is a large enough slab view, else inline. */
export async function digest(view: Uint8Array): Promise<string> {
  if (threads === 0 || view.byteLength < minBytes || !shared(view)) return sha256Hex(view);
  return threadsNow().pick().run({ op: 'digest', buf: view.buffer, off: view.byteOffset, len: view.byteLength }) as Promise<string>;
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

/** A new whole-file hash: pinned to one hash thread (beside chunk digests), unless hashing is inline. */
export function streamHash(): StreamHash {
  if (threads === 0) return inlineStream();
  const thread = threadsNow().pin();
  const id = nextStream++;
  let seq = 0;
  let over = false;
  return {
    async update(view) {
      // Resumed uploads feed their re-read prefix from slabs too; anything else is copied once.
      const v = shared(view) ? view : copyToShared(view);
      await thread.run({ op: 'update', id, seq: seq++, buf: v.buffer, off: v.byteOffset, len: v.byteLength });
    },
    async digest() {
      over = true;
      return thread.run({ op: 'final', id, seq }) as Promise<string>;
    },
    drop() {
      if (over) return;
      over = true;
      void thread.run({ op: 'drop', id }).catch(() => undefined);
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
