import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { NotFoundError, StorageError, isChunkstreamError } from '../errors.js';
import { abortError, throwIfAborted } from '../internal/abort.js';
import {
  Dirs,
  dropSync,
  eachLimited,
  readFileInto,
  readRange,
  readWhole,
  syncDir,
  syncFile,
  syncSoon,
  synced,
  touch,
  writeTemp,
  type EarlySync,
} from './fs-io.js';
import { checkKey } from './util.js';
import { createLmdbNameIndex } from './name-index-lmdb.js';
import type { CallOptions, ChunkStore, GetOptions, PutOptions, PutResult, StoredObject, SweepOptions } from './types.js';

export interface FsStoreOptions {
  /** fsync files and their directories before a put (or a flush of deferred puts) resolves (default true): what is put survives a crash. */
  fsync?: boolean;
}

/**
 * One directory holds the store. Writes go to `tmp/`, are fsynced, then linked (ifNotExists,
 * race-free across processes) or renamed into place, so an object is never seen half-written.
 * A deferred put (an upload's chunks) writes its temp file without a sync; `flush` makes many
 * durable at once: their data first, then the links, then each directory once — so nothing under
 * `chunks/` is ever visible before its bytes are on disk, and an upload pays no sync per chunk.
 */
export function createFsStore(dir: string, options: FsStoreOptions = {}): ChunkStore {
  const root = path.resolve(dir);
  const tmpDir = path.join(root, 'tmp');
  const durable = options.fsync ?? true;
  const dirs = new Dirs();
  /**
   * Deferred puts: written to tmp/, placed by `flush`. Each one's data sync starts at once in the
   * background (fs-io.ts: two at a time in the process), so the disk writes while the upload goes
   * on instead of all at each save; `flush` waits for them and fails with them, and syncs at once
   * what has not started yet.
   */
  const staged = new Map<string, { tmp: string; file: string; ifNotExists: boolean; sync?: EarlySync }>();

  const fail = (what: string, key: string, err: unknown, signal?: AbortSignal): never => {
    if (signal?.aborted) throw abortError(signal);
    if (isChunkstreamError(err)) throw err;
    const e = err as NodeJS.ErrnoException;
    if (e?.code === 'ENOENT' && what === 'get') throw new NotFoundError(`object ${key}`);
    if (e?.name === 'AbortError') throw new StorageError('fs', `${what} ${key} aborted`, { cause: err });
    // Node's messages start with their code already ("ENOENT: no such file…"): said once.
    const detail = e?.message ?? String(err);
    const said = e?.code && !detail.startsWith(e.code) ? `${e.code} ${detail}` : detail;
    throw new StorageError('fs', `${what} ${key} failed: ${said}`, { cause: err });
  };
  const fileOf = (key: string) => {
    checkKey('fs', key);
    return path.join(root, ...key.split('/'));
  };
  /** An existing object for ifNotExists: touched (gc's grace period relies on it), not rewritten. */
  const touchExisting = async (file: string, key: string): Promise<boolean> => {
    try {
      await touch(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') fail('put', key, err);
      return false;
    }
  };
  /** Moves a written temp file into place; returns whether it created the object and which directories changed. */
  const place = async (tmp: string, file: string, ifNotExists: boolean): Promise<{ created: boolean; changed: string[] }> => {
    const parent = path.dirname(file);
    const changed = [...(await dirs.ensure(parent))];
    if (ifNotExists) {
      try {
        await fsp.link(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        await touch(file);
        return { created: false, changed };
      } finally {
        await fsp.rm(tmp, { force: true });
      }
      return { created: true, changed: [...changed, parent] };
    }
    const existed = await fsp.access(file).then(
      () => true,
      () => false,
    );
    await fsp.rename(tmp, file);
    return { created: !existed, changed: existed ? changed : [...changed, parent] };
  };
  // Concurrent: the journal commits the directories of many syncs at once (ext4 group commit).
  const syncDirs = async (changed: Iterable<string>) => {
    if (!durable) return;
    const unique = [...new Set(changed)];
    await eachLimited(unique, 8, syncDir);
    dirs.synced(unique);
  };

  const names = createLmdbNameIndex(root, { durable });
  const store: ChunkStore = {
    name: 'fs',
    capabilities: { conditionalPut: true, rangeGet: true, lateInto: true },
    names,

    async put(key: string, data: Uint8Array, opts: PutOptions = {}): Promise<PutResult> {
      const file = fileOf(key);
      throwIfAborted(opts.signal);
      // The same chunk twice in one upload (a file of zeros), or in two at once: staged once.
      if (opts.defer && opts.ifNotExists && staged.has(key)) return { created: false };
      if (opts.ifNotExists && (await touchExisting(file, key))) return { created: false };
      let tmp: string | undefined;
      try {
        await dirs.ensure(tmpDir);
        tmp = await writeTemp(tmpDir, data, durable && !opts.defer, opts.signal);
        throwIfAborted(opts.signal); // an abandoned put leaves nothing behind
        if (opts.defer) {
          const previous = staged.get(key);
          staged.set(key, { tmp, file, ifNotExists: opts.ifNotExists === true, sync: durable ? syncSoon(tmp) : undefined });
          tmp = undefined;
          if (previous) {
            if (previous.sync) dropSync(previous.sync);
            await fsp.rm(previous.tmp, { force: true });
          }
          return { created: true };
        }
        const { created, changed } = await place(tmp, file, opts.ifNotExists === true);
        tmp = undefined;
        await syncDirs(changed);
        return { created };
      } catch (err) {
        if (tmp) await fsp.rm(tmp, { force: true }).catch(() => undefined);
        return fail('put', key, err, opts.signal);
      }
    },

    async get(key: string, opts: GetOptions = {}): Promise<Uint8Array> {
      const file = fileOf(key);
      throwIfAborted(opts.signal);
      try {
        if (opts.range) return await readRange(file, opts.range.start, opts.range.end);
        if (opts.into) return await readFileInto(file, opts.into);
        if (opts.lateInto) return await readFileInto(file, opts.lateInto);
        return await readWhole(file);
      } catch (err) {
        return fail('get', key, err, opts.signal);
      }
    },

    async flush(keys: readonly string[], opts: CallOptions = {}): Promise<void> {
      const entries = [...new Set(keys)].flatMap((k) => {
        const e = staged.get(k);
        if (e) staged.delete(k);
        return e ? [e] : [];
      });
      if (entries.length === 0) return;
      try {
        throwIfAborted(opts.signal);
        // Data first (the kernel writes many files at once), then the links, then each directory once.
        if (durable) await eachLimited(entries, 4, (e) => (e.sync ? synced(e.sync) : syncFile(e.tmp)));
        const changed: string[] = [];
        await eachLimited(entries, 8, async (e) => void changed.push(...(await place(e.tmp, e.file, e.ifNotExists)).changed));
        await syncDirs(changed);
      } catch (err) {
        for (const e of entries) if (e.sync) dropSync(e.sync);
        await Promise.all(entries.map((e) => fsp.rm(e.tmp, { force: true }).catch(() => undefined)));
        fail('flush', `${entries.length} staged objects`, err, opts.signal);
      }
    },

    async has(key: string, opts: CallOptions = {}): Promise<boolean> {
      const file = fileOf(key);
      throwIfAborted(opts.signal);
      return fsp.access(file).then(
        () => true,
        () => false,
      );
    },

    async delete(key: string, opts: CallOptions = {}): Promise<void> {
      const file = fileOf(key);
      throwIfAborted(opts.signal);
      await fsp.rm(file, { force: true }).catch((err) => fail('delete', key, err));
    },

    // A rename: atomic, and the bytes never leave the disk. The source directory is synced too, so
    // the move survives a crash whole (a chunk seen corrupt must not come back after a restart).
    async move(from: string, to: string, opts: CallOptions = {}): Promise<void> {
      const src = fileOf(from);
      const dst = fileOf(to);
      throwIfAborted(opts.signal);
      try {
        const changed = [...(await dirs.ensure(path.dirname(dst))), path.dirname(dst), path.dirname(src)];
        await fsp.rename(src, dst);
        await syncDirs(changed);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !(await store.has(from))) throw new NotFoundError(`object ${from}`);
        fail('move', from, err, opts.signal);
      }
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

    close: () => names.close?.() ?? Promise.resolve(),
  };
  return store;
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
