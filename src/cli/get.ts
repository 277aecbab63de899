import path from 'node:path';
import { type FileInfo } from '../catalog/schema.js';
import { toChunkstreamError, type ChunkstreamError } from '../errors.js';
import { PartlyFailedError } from './errors.js';
import { bool, checkRangeArg, describe, str, UsageError, type Parsed } from './args.js';
import type { Backend } from './backend.js';
import { idArg } from './id-arg.js';
import type { RunContext } from './context.js';
import { openThrough, saveFile, saveRange, writeThrough, type SaveRequest } from './output.js';
import { pathUnder, resolveTarget, type Target } from './saveas.js';

export async function get(p: Parsed, ctx: RunContext): Promise<void> {
  const ids = p.positionals;
  const range = checkRangeArg(str(p, 'range'));
  const output = str(p, 'output');
  const byName = bool(p, 'remote-name');
  const resume = bool(p, 'continue');
  if (ids.length === 0) throw new UsageError('missing <id>');
  if (output !== undefined && byName) throw new UsageError('-o and -O both say where to write: give one');
  if (range && resume) throw new UsageError('--continue resumes whole files: it cannot be used with --range');
  const target: Target = byName ? { kind: 'dir', path: '.' } : await resolveTarget(output ?? '-');
  if (ids.length > 1 && target.kind !== 'dir')
    throw new UsageError('several ids need -O or -o DIR/: each file is saved under its stored name');
  if (resume && (target.kind === 'stdout' || target.kind === 'through'))
    throw new UsageError('--continue needs -o FILE (a regular file), -O or -o DIR/');
  ids.forEach((id) => idArg(id));
  const b = await ctx.open();
  let failed = 0;
  let first: ChunkstreamError | undefined;
  for (const id of ids) {
    try {
      await getOne(b, id, target, {
        range,
        resume,
        ctx,
        refuseBinary: target.kind === 'stdout' && output === undefined && process.stdout.isTTY === true,
      });
    } catch (err) {
      if (ids.length === 1 || ctx.signal.aborted) throw err;
      failed++;
      first ??= toChunkstreamError(err);
      ctx.note(describe(err).line.replace(/^chunkstream: /, `${id}: `));
    }
  }
  if (first) throw new PartlyFailedError(first, failed, ids.length, 'files were not saved');
}

async function getOne(
  b: Backend,
  id: string,
  target: Target,
  o: { range?: string; resume: boolean; ctx: RunContext; refuseBinary: boolean },
): Promise<void> {
  const { ctx } = o;
  const fetch = (range?: string) => b.get(id, range, ctx.signal);
  // Written in place: no stat first (the answer carries length, ETag and name).
  if (target.kind === 'stdout' || target.kind === 'through') {
    const dl = await fetch(o.range);
    const named = { id, name: dl.name ?? id, signal: ctx.signal };
    return writeThrough(target.kind === 'stdout' ? process.stdout : openThrough(target.path), dl, named, o.refuseBinary);
  }
  const info: FileInfo = await b.stat(id);
  const request: SaveRequest = { id, name: info.name, size: info.size, sha256: info.sha256, fetch, signal: ctx.signal, note: ctx.note };
  if (target.kind === 'file')
    return o.range ? saveRange(target.path, await fetch(o.range), request) : saveFile(target.path, request, o.resume);
  const file = await pathUnder(target.path, info.name);
  if (o.range) await saveRange(file, await fetch(o.range), request);
  else await saveFile(file, request, o.resume);
  ctx.out(path.join(target.path, info.name));
}
