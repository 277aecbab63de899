import { toChunkstreamError, type ChunkstreamError } from '../errors.js';
import { PartlyFailedError, VerifyFailedError } from './errors.js';
import { bool, describe, noExtra, UsageError, type Parsed } from './args.js';
import type { RunContext } from './context.js';
import { parseGrace } from './durations.js';
import { idArg } from './id-arg.js';
import { ResumeState } from './resume-state.js';
import { fmtBytes } from '../internal/format.js';
import { fmtAge } from './units.js';

const json = (ctx: RunContext, v: unknown) => ctx.out(JSON.stringify(v, null, 2));

function ids(p: Parsed, what = '<id>'): string[] {
  if (p.positionals.length === 0) throw new UsageError(`missing ${what}`);
  return p.positionals.map((id) => idArg(id, what === '<id>' ? 'id' : 'uploadId'));
}

export async function stat(p: Parsed, ctx: RunContext): Promise<void> {
  noExtra(p, 1);
  const [id] = ids(p);
  json(ctx, await (await ctx.open()).stat(id!));
}

/** `rm A B C`: each one tried; the ones that fail are named, and the exit code says so. */
export async function rm(p: Parsed, ctx: RunContext): Promise<void> {
  const list = ids(p);
  const b = await ctx.open();
  await eachOf(list, ctx, (id) => b.remove(id), 'removed');
}

export async function gc(p: Parsed, ctx: RunContext): Promise<void> {
  noExtra(p, 0);
  const report = await (await ctx.open()).gc({ graceMs: parseGrace(p), dryRun: bool(p, 'dry-run') });
  json(ctx, report);
}

export async function verify(p: Parsed, ctx: RunContext): Promise<void> {
  noExtra(p, 1);
  const [id] = p.positionals.length ? ids(p) : [undefined];
  if (bool(p, 'repair')) return repair(ctx, id);
  const report = await (await ctx.open()).verify(id);
  json(ctx, report);
  if (report.problems.length > 0) {
    throw new VerifyFailedError(report.problems.length, report.problems[0]!.message);
  }
}

/**
 * `verify --repair`: the files that named a damaged chunk, each `whole` again (an upload stored
 * its bytes again) or still `damaged` (what to upload again is said); exit 1 while any is.
 */
async function repair(ctx: RunContext, id: string | undefined): Promise<void> {
  const report = await (await ctx.open()).repair(id);
  json(ctx, report);
  const damaged = report.files.filter((f) => f.status === 'damaged');
  const first = damaged[0];
  if (first) {
    const c = first.damaged[0]!;
    throw new VerifyFailedError(
      damaged.length,
      `file ${first.id} (${JSON.stringify(first.name)}) is still damaged: chunk ${c.index} (bytes ${c.start}-${c.end}) is ${c.reason}; upload the file again to restore it`,
    );
  }
}

/** `uploads` lists unfinished uploads; `uploads abort ID…` drops them. */
export async function uploads(p: Parsed, ctx: RunContext): Promise<void> {
  const [sub, ...rest] = p.positionals;
  if (sub === 'abort') {
    const list = ids({ ...p, positionals: rest }, '<upload-id>');
    const b = await ctx.open();
    const state = new ResumeState();
    await eachOf(
      list,
      ctx,
      async (id) => {
        await b.abortUpload(id);
        await state.forgetUpload(id);
      },
      'aborted',
    );
    return;
  }
  if (sub !== undefined) throw new UsageError(`unknown uploads subcommand ${JSON.stringify(sub)} (uploads, or uploads abort ID…)`);
  const list = await (await ctx.open()).uploads();
  if (bool(p, 'json')) return json(ctx, list);
  if (list.length === 0) return ctx.note('no unfinished uploads'); // stdout stays empty for scripts
  const now = Date.now();
  // Of how many bytes, for a reader at a terminal (when the upload declared its size); piped, the
  // columns stay as scripts read them (`--json` has `size`).
  const ofs = list.map((u) =>
    process.stdout.isTTY !== true ? '' : u.size === undefined ? ' of ?' : ` of ${fmtBytes(u.size)} ${percent(u.offset, u.size)}`,
  );
  const width = Math.max(...ofs.map((o) => o.length));
  for (const [i, u] of list.entries()) {
    const age = fmtAge(now - Date.parse(u.created));
    const idle = fmtAge(now - Date.parse(u.updated));
    const stored = fmtBytes(u.offset).padStart(10);
    const of = ofs[i]!.padEnd(width);
    ctx.out(
      `${u.uploadId}  ${stored}${of}  ${`${age} old`.padStart(10)}  ${`idle ${idle}`.padStart(11)}${u.expired ? '  (expired)' : ''}  ${u.name}`,
    );
  }
}

async function eachOf(list: string[], ctx: RunContext, act: (id: string) => Promise<void>, done: string): Promise<void> {
  let first: ChunkstreamError | undefined;
  let failed = 0;
  for (const id of list) {
    try {
      await act(id);
    } catch (err) {
      if (list.length === 1 || ctx.signal.aborted) throw err;
      failed++;
      first ??= toChunkstreamError(err);
      ctx.note(describe(err).line.replace(/^chunkstream: /, `${id}: `));
    }
  }
  if (first) throw new PartlyFailedError(first, failed, list.length, `not ${done}`);
}

function percent(part: number, whole: number): string {
  return `(${whole === 0 ? 100 : Math.floor((part / whole) * 100)}%)`;
}
