import { createHash } from 'node:crypto';
import { isChunkstreamError } from '../errors.js';
import { compareNames, pageOf, type NameIndex } from './name-index.js';
import type { ChunkStore } from './types.js';

const PREFIX = 'names/';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The name index of a ChunkStore that brings none (a store of someone else's making, a wrapper
 * that does not forward `names`): one object per name under `names/<sha256 of the name>`. Correct
 * in one process (swaps are serialized per name here), but a page reads every name, and two
 * processes can both win a swap: a backend meant for many names or many processes brings its own.
 */
export function createObjectNameIndex(store: ChunkStore): NameIndex {
  const keyOf = (name: string) => `${PREFIX}${createHash('sha256').update(name).digest('hex')}`;
  const locks = new Map<string, Promise<unknown>>();
  const read = async (name: string, signal?: AbortSignal) => {
    try {
      const raw = decoder.decode(await store.get(keyOf(name), { signal }));
      const { value } = JSON.parse(raw) as { value: string };
      return { value, version: raw };
    } catch (err) {
      if (isChunkstreamError(err) && err.code === 'not_found') return undefined;
      throw err;
    }
  };
  return {
    get: (name, o = {}) => read(name, o.signal),
    swap(name, value, expected, o = {}) {
      const run = (locks.get(name) ?? Promise.resolve()).then(async () => {
        if ((await read(name, o.signal))?.version !== expected) return false;
        if (value === undefined) await store.delete(keyOf(name), o);
        else await store.put(keyOf(name), encoder.encode(JSON.stringify({ name, value })), o);
        return true;
      });
      const tail = run.catch(() => undefined);
      locks.set(name, tail);
      void tail.then(() => locks.get(name) === tail && locks.delete(name));
      return run;
    },
    async list(query, o = {}) {
      const all: [string, string][] = [];
      for await (const obj of store.list(PREFIX, o)) {
        const raw = await store.get(obj.key, o).catch(() => undefined);
        if (!raw) continue;
        const { name, value } = JSON.parse(decoder.decode(raw)) as { name: string; value: string };
        if (name.startsWith(query.prefix)) all.push([name, value]);
      }
      all.sort((a, b) => compareNames(a[0], b[0]));
      return pageOf(query, function* (from) {
        for (const e of all) if (compareNames(e[0], from) >= 0) yield e;
      });
    },
  };
}
