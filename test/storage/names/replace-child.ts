// Run by replace-crash.slow.test.ts as a child process: stores to one name in a store directory and
// stops dead (never returning) at the n-th store operation, so the parent's SIGKILL lands there.
import { writeSync } from 'node:fs';
import { lastValueFrom } from 'rxjs';
import { createFsStore, openStore, type ChunkStore } from '../../../src/index.js';
import { CRASH_CHUNK, content } from './replace-data.js';

/** Calls `hook` before every put and delete of `inner` and every swap of its name index (the operations of a replace). */
function hooked(inner: ChunkStore, hook: (op: string, key: string) => Promise<void>): ChunkStore {
  return {
    ...inner,
    name: inner.name,
    capabilities: inner.capabilities,
    // The name's swap is an operation of the replace too: a kill can land just before it.
    names: inner.names && {
      ...inner.names,
      swap: async (name, value, expected, o) => (await hook('swap', name), inner.names!.swap(name, value, expected, o)),
    },
    put: async (k, d, o) => (await hook('put', k), inner.put(k, d, o)),
    delete: async (k, o) => (await hook('delete', k), inner.delete(k, o)),
    get: (k, o) => inner.get(k, o),
    has: (k, o) => inner.has(k, o),
    list: (p, o) => inner.list(p, o),
    flush: undefined,
  };
}

const [dir, name, seed, stopAt] = process.argv.slice(2) as [string, string, string, string];
let n = 0;
const inner = createFsStore(dir);
const store = openStore({
  chunkStore: hooked(inner, async (op, key) => {
    if (++n !== Number(stopAt)) return;
    writeSync(1, `stopped at ${n}: ${op} ${key}\n`);
    await new Promise(() => undefined); // held here until killed
  }),
  chunkSize: CRASH_CHUNK,
});
const last = await lastValueFrom(store.uploadTo(name, content(Number(seed))));
writeSync(1, `done ${last.type === 'committed' ? last.file.id : ''}\n`);
await store.close();
await inner.close?.();
