import { lstat, mkdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, isChunkstreamError } from '../errors.js';
import { UnsafeNameError } from './errors.js';

/** Where `get -o` writes. */
export type Target =
  | { kind: 'stdout' }
  /** A device, FIFO or socket: opened and written in place, like curl and cp (never replaced). */
  | { kind: 'through'; path: string }
  /** A regular file or a new one: written beside it, renamed over it once complete and verified. */
  | { kind: 'file'; path: string }
  /** Files are saved inside under their stored names. */
  | { kind: 'dir'; path: string };

const errno = (err: unknown) => (err as NodeJS.ErrnoException).code;

/** `-o X`: what X is decides how it is written. A symlink is followed: its target is what gets written. */
export async function resolveTarget(output: string): Promise<Target> {
  if (output === '-') return { kind: 'stdout' };
  if (output.endsWith('/')) return { kind: 'dir', path: output }; // created when the first file is saved
  const st = await lstat(output).catch((err) => {
    if (errno(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return newFile(output);
  if (st.isSymbolicLink()) {
    try {
      return await resolveTarget(await realpath(output));
    } catch (err) {
      // A dangling link: create what it points to, as `curl -o link` would.
      if (errno(err) === 'ENOENT') return newFile(path.resolve(path.dirname(output), await readlink(output)));
      throw err;
    }
  }
  if (st.isDirectory()) return { kind: 'dir', path: output };
  return st.isFile() ? { kind: 'file', path: output } : { kind: 'through', path: output };
}

/** A file to create: its directory must exist (said plainly, not as an error about the partial file). */
async function newFile(file: string): Promise<Target> {
  const dir = path.dirname(file);
  const st = await lstat(dir).catch(() => undefined);
  if (!st) throw new NotFoundError(dir, `cannot write ${file}: ${dir} does not exist (-o DIR/ creates a directory)`);
  return { kind: 'file', path: file };
}

/**
 * The path a stored name is saved under inside `dir`: `/` in the name becomes subfolders,
 * created as needed. Never outside `dir`: no `..`, `.` or empty segment, no absolute name, and
 * no symlink on the way (a link inside DIR could point anywhere); an existing target must be a
 * regular file (it is replaced), not a link, device or directory.
 */
export async function pathUnder(dir: string, name: string): Promise<string> {
  const segments = name.split('/');
  const refuse = (why: string) => new UnsafeNameError(name, dir, why);
  // eslint-disable-next-line no-control-regex -- a NUL in a name is what this refuses
  if (segments.some((s) => s === '' || s === '.' || s === '..' || /[\\\u0000]/.test(s))) throw refuse('not a safe relative name');
  await mkdir(dir, { recursive: true });
  let current = path.resolve(dir);
  for (const [i, segment] of segments.entries()) {
    current = path.join(current, segment);
    const last = i === segments.length - 1;
    const st = await lstat(current).catch((err) => {
      if (errno(err) === 'ENOENT') return undefined;
      throw err;
    });
    if (!st) {
      if (!last)
        await mkdir(current).catch((err: unknown) => {
          if (errno(err) !== 'EEXIST') throw err;
        });
      continue;
    }
    if (st.isSymbolicLink()) throw refuse(`${current} is a symbolic link`);
    if (!last && !st.isDirectory()) throw refuse(`${current} is not a directory`);
    if (last && !st.isFile()) throw refuse(`${current} exists and is not a regular file`);
  }
  const rel = path.relative(path.resolve(dir), current);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw refuse('it would be outside the directory');
  return current;
}

export const isRefusal = (err: unknown) =>
  isChunkstreamError(err) && err.code === 'bad_request' && err.message.startsWith('refusing to save');
