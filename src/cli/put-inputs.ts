import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { checkName } from '../catalog/model.js';
import { BadRequestError, NotFoundError, isChunkstreamError } from '../errors.js';
import { UsageError } from './args.js';

/** One thing to store: a regular file (resumable, size known), a pipe-like file, or stdin. */
export type Input =
  | { kind: 'file'; path: string; name: string; size: number; mtimeMs: number }
  | { kind: 'stream'; path: string; name: string }
  | { kind: 'stdin'; name: string };

export interface InputOptions {
  recursive: boolean;
  /** --name: only for one file (or stdin). */
  name?: string;
  warn: (line: string) => void;
}

/**
 * Everything a put will store, checked before anything is sent: missing files, directories
 * without -r and names the store would refuse all fail here, so a put of many files never
 * stops half-way for a reason known up front.
 */
export async function collectInputs(args: string[], o: InputOptions): Promise<Input[]> {
  if (args.length === 0) throw new UsageError('missing <file|-> (several files, or -r DIR, are fine too)');
  if (args.filter((a) => a === '-').length > 1) throw new UsageError('- (stdin) can be given once');
  const inputs: Input[] = [];
  for (const arg of args) {
    if (arg === '-') {
      inputs.push({ kind: 'stdin', name: named(o.name ?? 'stdin', 'stdin', o.name !== undefined) });
      continue;
    }
    const st = await stat(arg).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new NotFoundError(arg, `${arg}: no such file or directory`);
      throw new BadRequestError(arg, err.code === 'EACCES' ? 'permission denied' : err.message);
    });
    if (st.isDirectory()) {
      if (!o.recursive) throw new UsageError(`${arg} is a directory: put -r ${arg} stores the files in it`);
      const files = await walk(arg, '', o.warn);
      if (files.length === 0) o.warn(`${arg} holds no files: nothing of it is stored`);
      inputs.push(...files);
    } else if (st.isFile()) {
      inputs.push({
        kind: 'file',
        path: arg,
        name: named(o.name ?? path.basename(arg), arg, o.name !== undefined),
        size: st.size,
        mtimeMs: st.mtimeMs,
      });
    } else {
      // A FIFO, /dev/stdin or <(cmd): stat says 0 bytes, and it can be read only once.
      inputs.push({ kind: 'stream', path: arg, name: named(o.name ?? path.basename(arg), arg, o.name !== undefined) });
    }
  }
  if (o.name !== undefined && inputs.length !== 1)
    throw new UsageError('--name names one file: it cannot be used with several files or -r');
  const seen = new Map<string, string>();
  for (const i of inputs) {
    const where = 'path' in i ? i.path : '-';
    const before = seen.get(i.name);
    if (before !== undefined) throw new UsageError(`${before} and ${where} would both be stored as ${JSON.stringify(i.name)}`);
    seen.set(i.name, where);
  }
  return inputs;
}

/** The files under `dir`, named by their path relative to it with `/` between folders. */
async function walk(dir: string, prefix: string, warn: (line: string) => void): Promise<Input[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new BadRequestError(dir, (err as Error).message);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: Input[] = [];
  for (const e of entries) {
    const full = path.join(dir, e.name);
    const name = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) {
      out.push(...(await walk(full, name, warn)));
      continue;
    }
    // Symlinks to files are stored as the file; to directories, not followed (no loops, no escapes).
    const st = e.isFile() || e.isSymbolicLink() ? await stat(full).catch(() => undefined) : undefined;
    if (st?.isFile()) out.push({ kind: 'file', path: full, name: named(name, full), size: st.size, mtimeMs: st.mtimeMs });
    else
      warn(
        `skipped ${full}: ${e.isSymbolicLink() ? (st ? 'a symlink to a directory or device' : 'a broken symlink') : 'not a regular file'}`,
      );
  }
  return out;
}

/** The name the store will record, checked now (with the file it came from in the message). */
function named(name: string, from: string, flag = false): string {
  try {
    return checkName(name);
  } catch (err) {
    if (!isChunkstreamError(err)) throw err;
    const why = err.message.replace(/^name: /, '');
    // A bad --name is bad usage (exit 2); a file's own name the store cannot take is not.
    if (flag) throw new UsageError(`--name: ${JSON.stringify(name)} ${why}`);
    throw new BadRequestError('name', `${JSON.stringify(name)} (from ${from}) ${why}`);
  }
}
