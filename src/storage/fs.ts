import { randomBytes } from 'node:crypto';
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import { NotFoundError, StorageError, isChunkstreamError } from '../errors.js';
import { abortError, throwIfAborted } from '../internal/abort.js';
import { checkKey } from './util.js';
import type { CallOptions, ChunkStore, GetOptions, PutOptions, PutResult, StoredObject, SweepOptions } from './types.js';

export interface FsStoreOptions {
  /** fsync files and their directories before a put resolves (default true): what is put survives a crash. */
  fsync?: boolean;
}

/**
 * One directory holds the store. Writes go to `tmp/`, are fsynced, then linked (ifNotExists,
 * race-free across processes) or renamed into place, so an object is never seen half-written.
 */
export function createFsStore(dir: string, options: FsStoreOptions = {}): ChunkStore {
  const root = path.resolve(dir);
  const tmpDir = path.join(root, 'tmp');
  const durable = options.fsync ?? true;
  const madeDirs = new Set<string>();

  const fail = (what: string, key: string, err: unknown): never => {
    if (isChunkstreamError(err)) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e?.name === 'AbortError') throw new StorageError('fs', `${what} ${key} aborted`, { cause: err });
    throw new StorageError('fs', `${what} ${key} failed: ${e?.code ?? ''} ${e?.message ?? String(err)}`, { cause: err });
  };
  const ensureDir = async (d: string) => {
    if (madeDirs.has(d)) return;
    await fse.ensureDir(d);
    madeDirs.add(d);
  };
  const syncDir = async (d: string) => {
    if (!durable) return;
    const h = await fsp.open(d, constants.O_RDONLY);
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  };
  const touch = async (file: string) => {
    const now = new Date();
    await fsp.utimes(file, now, now);
  };
  const fileOf = (key: string) => {
    checkKey('fs', key);
    return path.join(root, ...key.split('/'));
  };

  return {
    name: 'fs',
    capabilities: { conditionalPut: true, rangeGet: true },

    async put(key: string, data: Uint8Array, opts: PutOptions = {}): Promise<PutResult> {
      const file = fileOf(key);
      throwIfAborted(opts.signal);
      if (opts.ifNotExists) {
        try {
          await touch(file);
          return { created: false };
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') fail('put', key, err);
        }
      }
      await ensureDir(tmpDir);
      const tmp = path.join(tmpDir, `${randomBytes(12).toString('hex')}.tmp`);
      let linked = false;
      try {
        const h = await fsp.open(tmp, 'wx');
        try {
          await h.writeFile(data, { signal: opts.signal });
          if (durable) await h.sync();
        } finally {
          await h.close();
        }
        throwIfAborted(opts.signal);
        const parent = path.dirname(file);
        await ensureDir(parent);
        let created = true;
        if (opts.ifNotExists) {
          try {
            await fsp.link(tmp, file);
            linked = true;
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
            await touch(file);
            created = false;
          }
        } else {
          created = !(await fse.pathExists(file));
          await fsp.rename(tmp, file);
          linked = true;
        }
        if (created) await syncDir(parent);
        return { created };
      } catch (err) {
        if (opts.signal?.aborted) throw abortError(opts.signal);
        return fail('put', key, err);
      } finally {
        if (!linked || opts.ifNotExists) await fsp.rm(tmp, { force: true }).catch(() => undefined);
      }
    },

    async get(key: string, opts: GetOptions = {}): Promise<Uint8Array> {
      const file = fileOf(key);
      throwIfAborted(opts.signal);
      try {
        if (!opts.range) return await fsp.readFile(file, { signal: opts.signal });
        const { start, end } = opts.range;
        const h = await fsp.open(file, 'r');
        try {
          const size = (await h.stat()).size;
          const last = Math.min(end, size - 1);
          if (start > last) return new Uint8Array(0);
          const buf = Buffer.allocUnsafe(last - start + 1);
          const { bytesRead } = await h.read(buf, 0, buf.length, start);
          return buf.subarray(0, bytesRead);
        } finally {
          await h.close();
        }
      } catch (err) {
        if (opts.signal?.aborted) throw abortError(opts.signal);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`object ${key}`);
        return fail('get', key, err);
      }
    },

    async has(key: string, opts: CallOptions = {}): Promise<boolean> {
      const file = fileOf(key);
      throwIfAborted(opts.signal);
      return fse.pathExists(file);
    },

    async delete(key: string, opts: CallOptions = {}): Promise<void> {
      const file = fileOf(key);
      throwIfAborted(opts.signal);
      await fsp.rm(file, { force: true }).catch((err) => fail('delete', key, err));
    },

    async *list(prefix: string, opts: CallOptions = {}): AsyncIterable<StoredObject> {
      // Walk only the deepest directory the prefix names completely.
      const parts = prefix.split('/');
      const base = parts.slice(0, -1).join('/');
      if (base && !isSafeDir(base)) return;
      yield* walk(path.join(root, ...base.split('/').filter(Boolean)), base, prefix, opts.signal);
    },

    async sweep(before: Date, opts: SweepOptions = {}): Promise<number> {
      let removed = 0;
      const entries = await fsp.readdir(tmpDir).catch(() => [] as string[]);
      for (const name of entries) {
        const f = path.join(tmpDir, name);
        const st = await fsp.stat(f).catch(() => undefined);
        if (st && st.mtime < before) {
          if (!opts.dryRun) await fsp.rm(f, { force: true });
          removed++;
        }
      }
      return removed;
    },
  };
}

function isSafeDir(rel: string): boolean {
  return rel.split('/').every((p) => /^[a-z0-9][a-z0-9._-]*$/i.test(p) && p !== '..');
}

async function* walk(dir: string, rel: string, prefix: string, signal?: AbortSignal): AsyncGenerator<StoredObject> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
    throw new StorageError('fs', `list ${prefix} failed: ${(err as Error).message}`, { cause: err });
  }
  for (const entry of entries) {
    throwIfAborted(signal);
    const key = rel ? `${rel}/${entry.name}` : entry.name;
    if (!rel && entry.name === 'tmp') continue;
    if (entry.isDirectory()) {
      if (prefix.startsWith(`${key}/`) || key.startsWith(prefix)) yield* walk(path.join(dir, entry.name), key, prefix, signal);
    } else if (entry.isFile() && key.startsWith(prefix)) {
      const st = await fsp.stat(path.join(dir, entry.name)).catch(() => undefined);
      if (st) yield { key, size: st.size, modified: st.mtime };
    }
  }
}
