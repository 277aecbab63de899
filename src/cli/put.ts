import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import type { FileInfo } from '../catalog/schema.js';
import { isChunkstreamError } from '../errors.js';
import { bool, str, UsageError, type Parsed } from './args.js';
import type { Backend } from './backend.js';
import type { RunContext } from './context.js';
import { collectInputs, type Input } from './put-inputs.js';
import { openSource } from './put-source.js';
import { endProgressLine, Progress } from './progress.js';
import { ResumeState, type StateKey } from './resume-state.js';
import { fmtBytes } from '../internal/format.js';

interface Stored {
  file: FileInfo;
  uploadId?: string;
  /** Where this run started: 0, or the offset of a resumed upload. */
  resumedFrom: number;
  /** Bytes this run read and sent. */
  sent: number;
  /** An earlier run had stored this very file: nothing was sent. */
  alreadyStored: boolean;
  /** Times the connection dropped and the upload resumed by itself (`--server`). */
  reconnects: number;
}

export async function put(p: Parsed, ctx: RunContext): Promise<void> {
  const json = bool(p, 'json');
  const quiet = bool(p, 'quiet');
  if (json && quiet) throw new UsageError('--json and -q/--quiet contradict each other: give one');
  const inputs = await collectInputs(p.positionals, { recursive: bool(p, 'recursive'), name: str(p, 'name'), warn: ctx.note });
  const b = await ctx.open();
  const state = new ResumeState();
  await state.prune();
  const many = inputs.length > 1 || bool(p, 'recursive');
  // --fresh starts a new upload, which is what a plain re-run then resumes: --fresh again would start over.
  const fresh = bool(p, 'fresh');
  for (const input of inputs) {
    let r: Stored;
    try {
      r = await putOne(b, input, state, { fresh, ctx, quiet, json });
    } catch (err) {
      if (ctx.signal.aborted) {
        ctx.note(
          input.kind === 'file'
            ? `${input.name} was not stored: run the same command again${fresh ? ' without --fresh' : ''} to resume it (chunkstream uploads lists unfinished uploads)`
            : `${input.name} was not stored (${input.kind === 'stdin' ? 'stdin' : 'a pipe'} cannot be resumed)`,
        );
      }
      throw err;
    }
    if (json)
      ctx.out(
        JSON.stringify({
          ...r.file,
          uploadId: r.uploadId,
          resumedFrom: r.resumedFrom,
          sent: r.sent,
          alreadyStored: r.alreadyStored,
          reconnects: r.reconnects,
        }),
      );
    else if (!quiet) ctx.out(many ? `${r.file.id}  ${r.file.name}` : r.file.id);
  }
}

async function putOne(
  b: Backend,
  input: Input,
  state: ResumeState,
  o: { fresh: boolean; ctx: RunContext; quiet: boolean; json: boolean },
): Promise<Stored> {
  const { ctx } = o;
  const key: StateKey | undefined =
    input.kind === 'file'
      ? { where: b.where, path: path.resolve(input.path), size: input.size, mtimeMs: input.mtimeMs, name: input.name }
      : undefined;
  const size = input.kind === 'file' ? input.size : undefined;
  let uploadId: string | undefined;
  let sha256: string | undefined;
  if (key && o.fresh) await abandon(b, state, key);
  const entry = key && !o.fresh ? await state.get(key) : undefined;
  if (key && entry) {
    const status = await b.uploadStatus(entry.uploadId).catch((err) => {
      if (isChunkstreamError(err) && err.code === 'not_found') return undefined; // expired, aborted, or its file removed
      throw err;
    });
    if (status?.committed) {
      if (!o.quiet)
        ctx.note(`${input.name}: already stored as ${status.committed.id} by an earlier run (unchanged since; --fresh stores it again)`);
      const resumedFrom = status.committed.size;
      return { file: status.committed, uploadId: entry.uploadId, resumedFrom, sent: 0, alreadyStored: true, reconnects: 0 };
    }
    if (status) {
      uploadId = entry.uploadId;
      // The store checks the whole file against this before committing: a file changed in
      // place (same size and mtime) is never committed as old prefix + new rest.
      sha256 = await hashFile((input as { path: string }).path, input.name, ctx.signal);
    } else await state.delete(key);
  }

  const attempt = async (resume: string | undefined, expectSha: string | undefined): Promise<Stored> => {
    let resumedFrom = 0;
    let recorded: Promise<void> | undefined;
    let progress: Progress | undefined;
    let starts = 0;
    const file = await b.put({
      name: input.name,
      size,
      sha256: expectSha,
      uploadId: resume,
      signal: ctx.signal,
      source: (offset) => metered(openSource(input, offset), (progress ??= new Progress(`put ${input.name}`, size, offset))),
      file: input.kind === 'file' ? input.path : undefined,
      onStored: (bytes) => (progress ??= new Progress(`put ${input.name}`, size, resumedFrom)).at(bytes),
      onStarted: (id, offset) => {
        // Started again: the connection dropped and the SDK resumed the upload where the server stands.
        if (++starts > 1) return reconnected(id, offset);
        resumedFrom = offset;
        uploadId = id;
        if (resume && offset > 0 && !o.quiet)
          ctx.note(`${input.name}: resuming at ${fmtBytes(offset)}${size ? ` of ${fmtBytes(size)}` : ''}`);
        if (key) recorded = state.set({ version: 1, ...key, uploadId: id, created: new Date().toISOString() });
      },
    });
    progress?.finish();
    await recorded;
    // The upload's id is the one the server started, or (a resume that found it committed) the one resumed.
    const recordedId = uploadId ?? resume;
    if (key && recordedId)
      await state.set({ version: 1, ...key, uploadId: recordedId, created: new Date().toISOString(), fileId: file.id });
    return { file, uploadId, resumedFrom, sent: progress?.sent ?? 0, alreadyStored: false, reconnects: starts - 1 };

    function reconnected(id: string, offset: number): void {
      progress?.restartAt(offset);
      if (o.quiet) return;
      endProgressLine();
      if (o.json) process.stderr.write(`${JSON.stringify({ event: 'reconnected', name: input.name, uploadId: id, offset })}\n`);
      else
        ctx.note(
          `${input.name}: the connection dropped; reconnected and resumed at ${fmtBytes(offset)}${size ? ` of ${fmtBytes(size)}` : ''}`,
        );
    }
  };

  const resuming = uploadId;
  try {
    return await attempt(resuming, sha256);
  } catch (err) {
    if (!resuming || !isChunkstreamError(err) || ctx.signal.aborted) throw err;
    // The upload went (expired, aborted) or holds other bytes than the file now has: start over.
    const changed = err.code === 'bad_request' && /^(sha256|size): /.test(err.message);
    if (err.code !== 'not_found' && err.code !== 'expired' && !changed) throw err;
    if (changed) await b.abortUpload(resuming).catch(() => undefined);
    if (key) await state.delete(key);
    ctx.note(`${input.name}: cannot resume the earlier upload (${err.message}): starting over`);
    return attempt(undefined, undefined);
  }
}

/** `--fresh`: an unfinished upload an earlier run left for this file will never be resumed now: drop it, not leave it in `uploads`. */
async function abandon(b: Backend, state: ResumeState, key: StateKey): Promise<void> {
  const earlier = await state.get(key);
  if (!earlier || earlier.fileId) return;
  await b.abortUpload(earlier.uploadId).catch(() => undefined); // gone already (expired, aborted): nothing to drop
  await state.delete(key);
}

/** Counts what the store pulls; read errors still reach the store (a pipe alone would drop them). */
function metered(source: Readable, progress: Progress): Readable {
  return pipeline(source, progress.meter(), () => undefined);
}

async function hashFile(file: string, name: string, signal: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const progress = new Progress(`check ${name}`, undefined);
  await pipelineAsync(
    createReadStream(file),
    progress.meter(),
    async (chunks: AsyncIterable<Buffer>) => {
      for await (const c of chunks) hash.update(c);
    },
    { signal },
  );
  progress.finish();
  return hash.digest('hex');
}
