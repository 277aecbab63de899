import { constants } from 'node:fs';
import { access, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidOptionError, NotFoundError } from '../errors.js';
import type { LocalLocation } from './location.js';

/** What a store directory holds (storage/fs.ts and catalog.ts lay it out). */
const STORE_ENTRIES = ['files', 'chunks', 'uploads', 'committed', 'tmp'];

/** The directory of a local fs store (`--dir`, `--store file://PATH`), or undefined for S3. */
export function fsDirOf(loc: LocalLocation): { path: string; flag: string } | undefined {
  if (loc.store === undefined) return { path: loc.dir, flag: 'dir' };
  if (loc.store.startsWith('file://')) return { path: loc.store.slice('file://'.length), flag: 'store' };
  return undefined;
}

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * Read commands (ls, get, stat, rm, gc, verify, uploads) on a path that holds no store: a typo
 * must not look like an empty store, and nothing may be created there. A missing directory, a
 * file, or a non-empty directory with none of a store's entries is "no store"; an empty
 * directory is an empty store.
 */
export async function checkStoreExists(loc: LocalLocation): Promise<void> {
  const where = fsDirOf(loc);
  if (!where) return;
  const noStore = (why: string) =>
    new NotFoundError(
      'store',
      `no store at ${where.path}: ${why} (--${where.flag} names the store${where.flag === 'dir' ? ', default ./data' : ''})`,
    );
  let entries: string[];
  try {
    entries = await readdir(where.path);
  } catch (err) {
    if (errno(err) === 'ENOENT') throw noStore('no such directory');
    if (errno(err) === 'ENOTDIR') throw noStore('it is a file, not a directory');
    throw err;
  }
  if (entries.length > 0 && !entries.some((e) => STORE_ENTRIES.includes(e))) {
    throw noStore(`the directory holds none of ${STORE_ENTRIES.map((e) => `${e}/`).join(', ')}`);
  }
}

/** put: the store may not exist yet (it is created), but a file in its place is a wrong flag. */
export async function checkStorePlace(loc: LocalLocation, origin: Map<string, string>): Promise<void> {
  const where = fsDirOf(loc);
  if (!where) return;
  const st = await stat(where.path).catch(() => undefined);
  if (st && !st.isDirectory()) {
    throw new InvalidOptionError(
      origin.get(where.flag) ?? `--${where.flag}`,
      `${where.path} is a file, not a directory: it cannot hold a store`,
    );
  }
}

/**
 * `mkdir -p`, one level at a time from the nearest existing parent: Node 20's recursive mkdir
 * never returns on a file system that answers ENOENT to every mkdir (procfs: `--dir /proc/x`).
 */
async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    try {
      await stat(p);
      break; // exists (a file here fails the mkdir below with ENOTDIR)
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
    }
    missing.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      await mkdir(p);
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
    }
  }
}

/** put and serve: create the store's directory, or refuse at start what cannot be a store (instead of a 500 per PUT). */
export async function makeStoreDir(loc: LocalLocation, origin: Map<string, string>): Promise<void> {
  const where = fsDirOf(loc);
  if (!where) return;
  const flag = origin.get(where.flag) ?? `--${where.flag}`;
  await checkStorePlace(loc, origin);
  try {
    await makeDirs(where.path);
    await access(where.path, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = errno(err);
    const why =
      code === 'ENOTDIR'
        ? 'a part of the path is a file'
        : code === 'EACCES' || code === 'EROFS'
          ? 'not writable'
          : code === 'ENOENT'
            ? 'the file system does not let a directory be made there'
            : (err as Error).message;
    throw new InvalidOptionError(flag, `${where.path} cannot hold a store: ${why}`);
  }
}
