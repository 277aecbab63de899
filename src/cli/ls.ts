import type { FileInfo } from '../catalog/schema.js';
import { bool, str, UsageError, type Parsed } from './args.js';
import type { RunContext } from './context.js';
import { fmtBytes } from '../internal/format.js';

const SORTS = {
  created: (a: FileInfo, b: FileInfo) => a.created.localeCompare(b.created) || a.id.localeCompare(b.id),
  name: (a: FileInfo, b: FileInfo) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id.localeCompare(b.id)),
  size: (a: FileInfo, b: FileInfo) => a.size - b.size || a.id.localeCompare(b.id),
} as const;

/**
 * `ls [PATTERN]`: a name prefix (`photos/`), or a glob when it has `*`, `?` or `[…]` (`*` stays
 * within a folder, `**` crosses them). Sorted by creation (default), name or size.
 */
export async function ls(p: Parsed, ctx: RunContext): Promise<void> {
  if (p.positionals.length > 1)
    throw new UsageError(`one pattern at most (quote it so the shell leaves it alone): got ${p.positionals.length}`);
  const sort = str(p, 'sort') ?? 'created';
  if (!(sort in SORTS)) throw new UsageError(`--sort must be created, name or size (got ${JSON.stringify(sort)})`);
  if (bool(p, 'json') && bool(p, 'long')) throw new UsageError('--json already has every field: --long does not apply');
  const match = matcher(p.positionals[0]);
  const b = await ctx.open();
  const files = (await b.list()).filter((f) => match(f.name)).sort(SORTS[sort as keyof typeof SORTS]);
  if (bool(p, 'reverse')) files.reverse();
  if (bool(p, 'json')) return ctx.out(JSON.stringify(files, null, 2));
  // Column names for a reader at a terminal only: piped, every line is a file (awk, xargs).
  if (bool(p, 'long') && process.stdout.isTTY === true && files.length > 0)
    ctx.out(
      `${'ID'.padEnd(files[0]!.id.length)}  ${'BYTES'.padStart(13)}  ${'SIZE'.padStart(10)}  ${'SHA-256'.padEnd(16)}  ${'CHUNKS'.padStart(6)} × ${'OF'.padEnd(9)}  ${'CREATED'.padEnd(files[0]!.created.length)}  NAME`,
    );
  for (const f of files) {
    if (bool(p, 'long')) {
      ctx.out(
        `${f.id}  ${String(f.size).padStart(13)}  ${fmtBytes(f.size).padStart(10)}  ${f.sha256.slice(0, 16)}  ${String(f.chunkCount).padStart(6)} × ${fmtBytes(f.chunkSize).padEnd(9)}  ${f.created}  ${f.name}`,
      );
    } else ctx.out(`${f.id}  ${fmtBytes(f.size).padStart(10)}  ${f.created}  ${f.name}`);
  }
}

export function matcher(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined || pattern === '') return () => true;
  if (!/[*?[]/.test(pattern)) return (name) => name.startsWith(pattern);
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new UsageError(`unclosed [ in pattern ${JSON.stringify(pattern)}`);
      const body = pattern
        .slice(i + 1, end)
        .replace(/^!/, '^')
        .replace(/\\/g, '\\\\');
      re += `[${body}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  const compiled = new RegExp(`^${re}$`, 'u');
  return (name) => compiled.test(name);
}
