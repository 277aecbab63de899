import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import type { LateBuffer } from './types.js';

/** The file-system work behind the fs store: temp files, syncs, links and positional reads. */

/** fsync of a directory: its new entries (a linked or renamed file, a new subdirectory) survive a crash. */
export const syncDir = (dir: string): Promise<void> => syncPath(dir);

/** fsync of a file's data and size (opened again: the writer closed it long ago). */
export const syncFile = (file: string): Promise<void> => syncPath(file);

async function syncPath(p: string): Promise<void> {
  const h = await fsp.open(p, constants.O_RDONLY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export async function touch(file: string): Promise<void> {
  const now = new Date();
  await fsp.utimes(file, now, now);
}

/**
 * `mkdir -p` that remembers what exists. `ensure` returns the directories whose entries must be
 * synced before anything placed in `dir` is durable: the parent of every directory on its path
 * that was created and whose entry is not yet known to be synced — also when another call created
 * it a moment ago (two puts into one new directory at once). `synced` records that they were.
 */
export class Dirs {
  private readonly made = new Set<string>();
  /** Created directories whose entry in their parent may not be on disk yet. */
  private readonly unsynced = new Set<string>();

  async ensure(dir: string): Promise<string[]> {
    if (!this.made.has(dir)) {
      const first = await fsp.mkdir(dir, { recursive: true });
      this.made.add(dir);
      if (first !== undefined) for (let d = dir; d.length >= first.length; d = path.dirname(d)) this.unsynced.add(d);
    }
    const changed: string[] = [];
    for (let d = dir; this.unsynced.has(d); d = path.dirname(d)) changed.push(path.dirname(d));
    return changed;
  }

  /** The parents in `parents` were synced: the directories in them are durable now. */
  synced(parents: Iterable<string>): void {
    const done = new Set(parents);
    for (const d of [...this.unsynced]) if (done.has(path.dirname(d))) this.unsynced.delete(d);
  }
}

/** Writes `data` to a new temp file in `tmpDir` (fsynced if `sync`); returns its path. */
export async function writeTemp(tmpDir: string, data: Uint8Array, sync: boolean, signal?: AbortSignal): Promise<string> {
  const tmp = path.join(tmpDir, `${randomBytes(12).toString('hex')}.tmp`);
  const h = await fsp.open(tmp, 'wx');
  try {
    await h.writeFile(data, { signal });
    if (sync) await h.sync();
  } catch (err) {
    await h.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await h.close();
  return tmp;
}

/** A staged file's background data sync: queued, then running (`done`). */
export interface EarlySync {
  readonly file: string;
  done?: Promise<void>;
}

// At most two background syncs in the process: each holds a thread of libuv's pool (four by
// default) for its whole wait, and reads and writes need the rest.
const EARLY_SYNCS = 2;
const queued: EarlySync[] = [];
let running = 0;

function pump(): void {
  while (running < EARLY_SYNCS && queued.length > 0) {
    const s = queued.shift()!;
    running++;
    s.done = syncFile(s.file).finally(() => {
      running--;
      pump();
    });
    s.done.catch(() => undefined); // reported by `synced`, if anyone still needs the file
  }
}

/** Starts syncing `file`'s data in the background, behind the syncs already queued. */
export function syncSoon(file: string): EarlySync {
  const s: EarlySync = { file };
  queued.push(s);
  pump();
  return s;
}

/** Drops a sync not started yet: its file was replaced or will not be placed. */
export function dropSync(s: EarlySync): void {
  const i = queued.indexOf(s);
  if (i >= 0) queued.splice(i, 1);
}

/** Resolves once the file's data is durable: its background sync if it started, else a sync now (not queued behind others). */
export function synced(s: EarlySync): Promise<void> {
  dropSync(s);
  return s.done ?? syncFile(s.file);
}

/**
 * Reads from the start of `file` into `into` with positional reads (one read for a chunk in the
 * page cache); a late buffer is taken once the file is open. Resolves the view that was filled.
 */
export async function readFileInto(file: string, into: Uint8Array | LateBuffer): Promise<Uint8Array> {
  const h = await fsp.open(file, 'r');
  try {
    const target = into instanceof Uint8Array ? into : await into.take();
    let n = 0;
    while (n < target.byteLength) {
      const { bytesRead } = await h.read(target, n, target.byteLength - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return target.subarray(0, n);
  } finally {
    await h.close();
  }
}

/** The whole file in one buffer of its size (readFile reads in 512 KiB pieces). */
export async function readWhole(file: string): Promise<Buffer> {
  const h = await fsp.open(file, 'r');
  try {
    const { size } = await h.stat();
    const buf = Buffer.allocUnsafe(size);
    let n = 0;
    while (n < size) {
      const { bytesRead } = await h.read(buf, n, size - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return n === size ? buf : buf.subarray(0, n);
  } finally {
    await h.close();
  }
}

/** Bytes [start, end] of `file` (inclusive; clamped to its size). */
export async function readRange(file: string, start: number, end: number): Promise<Buffer> {
  const h = await fsp.open(file, 'r');
  try {
    const size = (await h.stat()).size;
    const last = Math.min(end, size - 1);
    if (start > last) return Buffer.alloc(0);
    const buf = Buffer.allocUnsafe(last - start + 1);
    const { bytesRead } = await h.read(buf, 0, buf.length, start);
    return buf.subarray(0, bytesRead);
  } finally {
    await h.close();
  }
}

/** Runs `fn` over `items`, at most `limit` at a time (the thread pool has 4 threads). */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
