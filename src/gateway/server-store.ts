import { openStore, type Store } from '../engine/store.js';
import { InvalidOptionError } from '../errors.js';
import { instrumentChunkStore } from '../storage/instrumented.js';
import { openChunkStore } from '../storage/open.js';
import type { ServerMetrics } from './ops/metrics.js';
import type { resolveServerOptions } from './server-options.js';
import { DEFAULT_CACHE_BYTES, backendConcurrency } from '../options.js';

type Resolved = ReturnType<typeof resolveServerOptions>;

/**
 * The store a server serves: the one given (the caller's: its chunk store is not instrumented,
 * so chunk metrics stay at zero unless the caller wrapped it with instrumentChunkStore), or one
 * opened here from the options, its backend wrapped so chunk reads and writes are measured.
 */
export async function serverStore(
  o: Resolved,
  given: Store | undefined,
  metrics: ServerMetrics,
): Promise<{ store: Store; owned: boolean }> {
  if (given) {
    for (const option of ['maxFileSize', 'uploadTtlMs', 'cacheBytes'] as const) {
      if (o[option] !== undefined) {
        throw new InvalidOptionError(option, 'applies to a store the server opens: set it in openStore() for the store you pass');
      }
    }
    return { store: given, owned: false };
  }
  const backend = await openChunkStore({
    dir: o.dir,
    store: o.storeUrl,
    s3Endpoint: o.s3Endpoint,
    s3Region: o.s3Region,
    s3ForcePathStyle: o.s3ForcePathStyle,
    concurrency: backendConcurrency(o),
  });
  try {
    const store = openStore({
      dir: o.dir,
      chunkStore: instrumentChunkStore(backend, metrics.chunkHooks(backend.name)),
      chunkSize: o.chunkSize,
      uploadConcurrency: o.uploadConcurrency,
      downloadConcurrency: o.downloadConcurrency,
      cacheBytes: o.cacheBytes ?? DEFAULT_CACHE_BYTES,
      maxFileSize: o.maxFileSize,
      uploadTtlMs: o.uploadTtlMs,
    });
    return { store, owned: true };
  } catch (err) {
    await backend.close?.();
    throw err;
  }
}

/** Closes what serverStore opened (openStore({ chunkStore }) leaves the backend to its opener). */
export async function closeOwned(store: Store): Promise<void> {
  await store.close();
  await store.chunkStore.close?.();
}
