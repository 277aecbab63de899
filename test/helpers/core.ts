import { mkdtemp, rm, stat, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { afterAll, afterEach, onTestFinished } from 'vitest';
import type { ChunkStore, FileInfo, Store, UploadEvent, UploadSource } from '../../src/index.js';

/** The chunk size of the tests' stores: small, so a few hundred KiB make a many-chunk file. */
export const CHUNK = 64 * 1024;

const removeDir = (d: string) => rm(d, { recursive: true, force: true, maxRetries: 5 });
/** Directories made outside a test (beforeAll, describe): removed after the file's last test. */
const fileDirs: string[] = [];
afterAll(async () => {
  await Promise.all(fileDirs.splice(0).map(removeDir));
});

/**
 * A fresh temp directory, removed when the test that made it finished (after its afterEach
 * hooks), or — made in beforeAll — after the file's last test.
 */
export async function tempDir(label = 'test'): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), `chunkstream-${label}-`));
  try {
    onTestFinished(() => removeDir(d));
  } catch {
    fileDirs.push(d); // not inside a test
  }
  return d;
}

type Closable = { close(): unknown };

/**
 * What a test opens (servers, stores, clients, browsers): `open.add(x)` returns `x`, and after
 * each test everything added is closed, the last added first.
 */
export function closeAfterEach(): { add<T extends Closable>(item: T): T } {
  const items: Closable[] = [];
  afterEach(async () => {
    for (const x of items.splice(0).reverse()) await x.close();
  });
  return { add: (item) => (items.push(item), item) };
}

/** Moves a file's modified time `ms` into the past: what an age check sees after waiting, without the wait. */
export async function backdate(file: string, ms: number): Promise<void> {
  const { atime, mtimeMs } = await stat(file);
  await utimes(file, atime, new Date(mtimeMs - ms));
}

/** The keys under `prefix`, sorted. */
export async function listKeys(store: ChunkStore, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys.sort();
}

export async function collect(bytes$: Observable<Uint8Array>): Promise<Buffer> {
  return Buffer.concat(await lastValueFrom(bytes$.pipe(toArray())));
}

export async function put(store: Store, data: Uint8Array, name = 'file.bin'): Promise<FileInfo> {
  const events = await lastValueFrom(store.upload(data, { name }).pipe(toArray()));
  const last = events.at(-1) as UploadEvent;
  if (last.type !== 'committed') throw new Error(`upload ended with ${last.type}`);
  return last.file;
}

/**
 * Starts an upload and aborts it once `chunks` chunks were reported stored (an interrupted
 * client); resolves with its upload id once the upload ended.
 */
export function uploadCutAfter(store: Store, source: UploadSource, name: string, chunks: number): Promise<string> {
  const controller = new AbortController();
  let uploadId = '';
  return new Promise<string>((resolve) =>
    store.upload(source, { name, signal: controller.signal }).subscribe({
      next: (e) => {
        if (e.type === 'started') uploadId = e.uploadId;
        if (e.type === 'progress' && e.chunks >= chunks) controller.abort();
      },
      error: () => resolve(uploadId),
      complete: () => resolve(uploadId),
    }),
  );
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const tick = (ms = 0) => new Promise<void>((r) => setTimeout(r, ms));

type Op = 'put' | 'get' | 'has' | 'delete' | 'list';

/**
 * Wraps a store to inject faults or delays per call, the way users wrap theirs. `hook` runs
 * before each call; throwing from it fails that call; returning a promise delays it.
 * `idle()` resolves once no call is in flight (a failed upload does not wait for its
 * cancelled siblings, and a test must not race them).
 */
export function wrapStore(inner: ChunkStore, hook: (op: Op, key: string) => void | Promise<void>): ChunkStore & { idle(): Promise<void> } {
  let inFlight = 0;
  const waiters: (() => void)[] = [];
  const track = async <T>(op: Op, key: string, call: () => Promise<T>): Promise<T> => {
    inFlight++;
    try {
      await hook(op, key);
      return await call();
    } finally {
      if (--inFlight === 0) for (const w of waiters.splice(0)) w();
    }
  };
  return {
    name: `wrapped-${inner.name}`,
    capabilities: inner.capabilities,
    put: (k, d, o) => track('put', k, () => inner.put(k, d, o)),
    get: (k, o) => track('get', k, () => inner.get(k, o)),
    has: (k, o) => track('has', k, () => inner.has(k, o)),
    delete: (k, o) => track('delete', k, () => inner.delete(k, o)),
    list: (p, o) => inner.list(p, o),
    ...(inner.names ? { names: inner.names } : {}),
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
}
