import { InvalidOptionError, NotFoundError } from '../errors.js';
import { throwIfAborted } from '../internal/abort.js';
import { checkKey, sliceRange } from './util.js';
import { createMemoryNameIndex } from './name-index.js';
import type { CallOptions, ChunkStore, GetOptions, PutOptions, PutResult, StoredObject } from './types.js';

/**
 * A copy in fresh memory. (`Buffer.prototype.slice` — what `.slice()` is on a Buffer — returns a
 * view, not a copy: a caller that reused or transferred it would have changed the stored object.)
 */
function copy(data: Uint8Array): Buffer {
  return Buffer.from(data);
}

export interface MemoryStoreOptions {
  /** The clock of the objects' modified times (default Date.now): a test ages objects without waiting. */
  now?: () => number;
}

/** Keeps everything in process memory: for tests, caches and embedding. Copies in and out, like a real store. */
export function createMemoryStore(options: MemoryStoreOptions = {}): ChunkStore {
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new InvalidOptionError('now', 'must be a function returning epoch milliseconds');
  const objects = new Map<string, { data: Uint8Array; modified: Date }>();
  return {
    name: 'memory',
    capabilities: { conditionalPut: true, rangeGet: true, lateInto: true },
    names: createMemoryNameIndex(),
    async put(key: string, data: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
      checkKey('memory', key);
      throwIfAborted(options.signal);
      const existing = objects.get(key);
      if (existing && options.ifNotExists) {
        existing.modified = new Date(now());
        return { created: false };
      }
      objects.set(key, { data: copy(data), modified: new Date(now()) });
      return { created: !existing };
    },
    async get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
      checkKey('memory', key);
      throwIfAborted(options.signal);
      const o = objects.get(key);
      if (!o) throw new NotFoundError(`object ${key}`);
      const into = options.range ? undefined : (options.into ?? (await options.lateInto?.take()));
      if (into) {
        const n = Math.min(into.byteLength, o.data.byteLength);
        into.set(o.data.subarray(0, n));
        return into.subarray(0, n);
      }
      return copy(sliceRange(o.data, options.range));
    },
    async has(key: string, options: CallOptions = {}): Promise<boolean> {
      checkKey('memory', key);
      throwIfAborted(options.signal);
      return objects.has(key);
    },
    async delete(key: string, options: CallOptions = {}): Promise<void> {
      checkKey('memory', key);
      throwIfAborted(options.signal);
      objects.delete(key);
    },
    async move(from: string, to: string, options: CallOptions = {}): Promise<void> {
      checkKey('memory', from);
      checkKey('memory', to);
      throwIfAborted(options.signal);
      const o = objects.get(from);
      if (!o) throw new NotFoundError(`object ${from}`);
      objects.set(to, o);
      objects.delete(from);
    },
    async *list(prefix: string, options: CallOptions = {}): AsyncIterable<StoredObject> {
      for (const [key, o] of [...objects]) {
        throwIfAborted(options.signal);
        if (key.startsWith(prefix)) yield { key, size: o.data.byteLength, modified: o.modified };
      }
    },
  };
}
