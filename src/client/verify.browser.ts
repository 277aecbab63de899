// Browsers: chunk digests with WebCrypto on dedicated workers (hash-worker.ts). Replaces verify.ts
// in browser builds (package.json `browser` field, and the alias in the browser bundle).
//
// Why workers: Chromium computes crypto.subtle.digest synchronously on the calling thread, so on
// the page's thread every 4 MiB chunk stopped the WebSocket's delivery for ~7 ms. A received
// chunk's buffer is transferred to a worker and back (no copy). Where no worker can run (no
// Worker, a page whose CSP refuses it, a bundle without hash-worker.js) digests run on the page's
// thread as before: slower, never wrong.
import type { HashReply, HashRequest } from './hash-worker.js';

export interface Digested {
  hex: string;
  /** The same bytes, possibly in a new view: use this one, not the one passed in. */
  bytes: Uint8Array;
}

interface Job {
  bytes: Uint8Array;
  resolve(v: Digested): void;
  reject(err: unknown): void;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const MAX_WORKERS = Math.max(1, Math.min(4, Math.floor((globalThis.navigator?.hardwareConcurrency || 2) / 2)));
const IDLE_MS = 15_000;

const workers: HashWorker[] = [];
let unavailable = typeof Worker === 'undefined';

/** Hex SHA-256 of `bytes`. The bytes are handed over: read them afterwards through the returned view. */
export function chunkDigest(bytes: Uint8Array): Promise<Digested> {
  return new Promise<Digested>((resolve, reject) => dispatch({ bytes, resolve, reject }));
}

function dispatch(job: Job): void {
  if (unavailable) return void onThisThread(job);
  let best = workers[0];
  for (const w of workers) if (w.load < best!.load) best = w;
  if (!best || (best.load > 0 && workers.length < MAX_WORKERS)) {
    try {
      best = new HashWorker();
    } catch {
      unavailable = true; // no module workers here, or no URL for the file
      return void onThisThread(job);
    }
    workers.push(best);
  }
  best.submit(job);
}

async function onThisThread(job: Job): Promise<void> {
  try {
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', job.bytes as Uint8Array<ArrayBuffer>));
    let hex = '';
    for (const b of d) hex += HEX[b];
    job.resolve({ hex, bytes: job.bytes });
  } catch (err) {
    job.reject(err);
  }
}

class HashWorker {
  private readonly worker: Worker;
  private ready = false;
  private readonly waiting: Job[] = [];
  private readonly running = new Map<number, { job: Job; offset: number; length: number; moved: boolean }>();
  private nextId = 0;
  private idle: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.worker = new Worker(new URL('./hash-worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = (ev: MessageEvent<HashReply>) => this.onReply(ev.data);
    this.worker.onerror = (ev) => {
      ev.preventDefault();
      this.fail();
    };
  }

  get load(): number {
    return this.waiting.length + this.running.size;
  }

  submit(job: Job): void {
    clearTimeout(this.idle);
    if (this.ready) this.post(job);
    else this.waiting.push(job);
  }

  private post(job: Job): void {
    const id = ++this.nextId;
    const { buffer, byteOffset, byteLength } = job.bytes;
    // A received chunk is most of its WebSocket message's buffer (the frame header is the rest):
    // that buffer travels. Anything else is copied first, so the caller's buffer stays whole.
    const moved = buffer instanceof ArrayBuffer && byteLength * 2 >= buffer.byteLength;
    const sent = moved ? buffer : job.bytes.slice().buffer;
    const offset = moved ? byteOffset : 0;
    this.running.set(id, { job, offset, length: byteLength, moved });
    const msg: HashRequest = { id, buffer: sent, offset, length: byteLength };
    this.worker.postMessage(msg, [sent]);
  }

  private onReply(reply: HashReply): void {
    if ('ready' in reply) {
      this.ready = true;
      for (const job of this.waiting.splice(0)) this.post(job);
      return;
    }
    const entry = this.running.get(reply.id);
    if (!entry) return;
    this.running.delete(reply.id);
    const bytes = entry.moved ? new Uint8Array(reply.buffer, entry.offset, entry.length) : entry.job.bytes;
    if ('error' in reply) entry.job.reject(new Error(`SHA-256 in a worker failed: ${reply.error}`));
    else entry.job.resolve({ hex: reply.hex, bytes });
    if (this.load === 0) this.idle = setTimeout(() => this.retire(), IDLE_MS);
  }

  /** The worker could not start or died: what it had not yet been given is hashed here instead. */
  private fail(): void {
    if (!this.ready) unavailable = true;
    this.retire();
    for (const { job } of this.running.values()) job.reject(new Error('the hashing worker stopped'));
    this.running.clear();
    for (const job of this.waiting.splice(0)) dispatch(job);
  }

  private retire(): void {
    clearTimeout(this.idle);
    this.worker.terminate();
    const i = workers.indexOf(this);
    if (i >= 0) workers.splice(i, 1);
  }
}
