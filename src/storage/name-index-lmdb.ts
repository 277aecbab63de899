import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { StorageError } from '../errors.js';
import { throwIfAborted } from '../internal/abort.js';
import { nameBytes, pageOf, type NameIndex } from './name-index.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The fs store's name index: an LMDB environment in `<dir>/index/names.mdb` (lmdb's prebuilt
 * binary ships in its npm package). Keys are the names' UTF-8 bytes, so LMDB's B+tree keeps them
 * in exactly the byte order listings need; a page is a seek per folder and a step per entry.
 * Several processes may open one directory (a CLI beside a server): LMDB serializes writers with
 * its lock file and readers see committed snapshots. Each swap is one write transaction, durable
 * when it resolves (its commit flushed), so a crash leaves the old value or the new one.
 */
export function createLmdbNameIndex(root: string, options: { durable?: boolean } = {}): NameIndex {
  const durable = options.durable ?? true;
  let db: RootDatabase<string, Buffer> | undefined;
  const env = (): Database<string, Buffer> => {
    if (!db) {
      const dir = path.join(root, 'index');
      mkdirSync(dir, { recursive: true });
      try {
        db = open<string, Buffer>({ path: path.join(dir, 'names.mdb'), keyEncoding: 'binary', encoding: 'string', noSubdir: true });
      } catch (err) {
        throw new StorageError('fs', `cannot open the name index in ${dir}: ${(err as Error).message}`, { cause: err });
      }
    }
    return db;
  };
  const key = (name: string) => Buffer.from(nameBytes(name));
  return {
    async get(name, options = {}) {
      throwIfAborted(options.signal);
      const value = env().get(key(name));
      return value === undefined ? undefined : { value, version: value };
    },
    async swap(name, value, expected, options = {}) {
      throwIfAborted(options.signal);
      const d = env();
      const k = key(name);
      // The read and the write in one write transaction: no other process can change the name between them.
      const swapped = await d.transaction(() => {
        if (d.get(k) !== expected) return false;
        if (value === undefined) void d.remove(k);
        else void d.put(k, value);
        return true;
      });
      // lmdb-js resolves at commit (visible) and syncs after it (overlappingSync): a swap is
      // reported only once durable, since what follows it (retiring the old file) assumes so.
      if (swapped && durable) await d.flushed;
      return swapped;
    },
    async list(query, options = {}) {
      throwIfAborted(options.signal);
      const d = env();
      // Each seek reads a committed snapshot; a page may see a swap that committed between two seeks (as on S3).
      return pageOf(query, function* (from) {
        for (const { key: k, value } of d.getRange({ start: key(from) })) yield [decoder.decode(k), value];
      });
    },
    async close() {
      await db?.close();
      db = undefined;
    },
  };
}
