import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadRequestError, IntegrityError, isChunkstreamError } from '../errors.js';
import { UsageError } from './args.js';
import { CannotWriteError } from './errors.js';
import type { Download } from './backend.js';
import { Progress } from './progress.js';
import { fmtBytes } from '../internal/format.js';

export interface SaveRequest {
  id: string;
  name: string;
  /** Size and SHA-256 of the whole file (from stat): what a saved file must match. */
  size: number;
  sha256: string;
  /** Opens the bytes, or a range of them (`A-`). */
  fetch: (range?: string) => Promise<Download>;
  signal: AbortSignal;
  note: (line: string) => void;
}

/** The partial download of file `id` to `target`: a fixed name, so `--continue` finds it. */
export const partialPath = (target: string, id: string) => path.join(path.dirname(target), `.${path.basename(target)}.${id}.part`);

/**
 * A whole file to a regular (or new) path: written to the partial file beside it, checked
 * (length and SHA-256 of every byte, including a resumed prefix), then renamed over the
 * target, so the target name never holds a half or wrong file. With `resume`, an existing
 * partial is continued with a range request. What happens to the partial when it fails:
 * integrity: removed (its bytes are suspect); Ctrl-C: removed, or kept with `resume`; any
 * other failure: kept for `--continue`. Each time, a note says so.
 */
export async function saveFile(target: string, r: SaveRequest, resume: boolean): Promise<void> {
  const part = partialPath(target, r.id);
  const existing = await lstat(part).catch(() => undefined);
  let have = existing?.isFile() ? existing.size : 0;
  if (existing && !existing.isFile()) throw new BadRequestError(part, 'is in the way and is not a regular file');
  if (have > 0 && !resume) r.note(`discarding the partial download ${part} of an earlier run (--continue resumes it instead)`);
  if (!resume || have > r.size) have = 0;
  const hash = createHash('sha256');
  const progress = new Progress(`get ${r.name}`, r.size, have);
  if (have > 0) progress.say(`${target}: resuming at ${fmtBytes(have)} of ${fmtBytes(r.size)} (the partial download ${part})`);
  let sink: Writable | undefined;
  try {
    if (have > 0) for await (const piece of createReadStream(part, { end: have - 1 })) hash.update(piece as Buffer);
    sink = await openOutput(part, target, have > 0 ? 'r+' : 'w', have);
    if (have < r.size) {
      const dl = await r.fetch(have > 0 ? `${have}-` : undefined);
      await pipeline(dl.body, counted(r.id, r.size - have), hashing(hash), progress.meter(), sink, { signal: r.signal });
    } else await new Promise<void>((resolve, reject) => sink?.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const got = hash.digest('hex');
    if (got !== r.sha256) throw new IntegrityError(r.id, undefined, r.sha256, `whole-file SHA-256 of the download is ${got}`);
    progress.finish();
    // Replacing a file keeps its permissions, as cp does.
    const old = await lstat(target).catch(() => undefined);
    if (old?.isFile()) await chmod(part, old.mode & 0o7777);
    await rename(part, target);
  } catch (err) {
    sink?.destroy(); // the fetch failed before the pipeline took it: close the file
    // The meter is redrawn 5 times a second: show where it stopped, not where it last drew.
    if (r.signal.aborted) progress.finish();
    const written = await lstat(part).then(
      (s) => s.size,
      () => 0,
    );
    const interrupted = r.signal.aborted;
    if (isChunkstreamError(err) && err.code === 'integrity') await rm(part, { force: true });
    else if (interrupted && !resume) {
      await rm(part, { force: true });
      r.note(`removed the partial download ${part} (${fmtBytes(written)}; with --continue it is kept, to resume)`);
    } else if (written > 0)
      r.note(`kept the partial download ${part} (${fmtBytes(written)} of ${fmtBytes(r.size)}): run the same get with --continue to resume`);
    else await rm(part, { force: true });
    throw err;
  }
}

/** A range, or any bytes to a path that is not a regular file's final place: no resume, no partial kept. */
export async function saveRange(target: string, dl: Download, r: Pick<SaveRequest, 'id' | 'name' | 'signal' | 'note'>): Promise<void> {
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const progress = new Progress(`get ${r.name}`, dl.length);
    const sink = await openOutput(tmp, target, 'wx');
    await pipeline(dl.body, counted(r.id, dl.length), progress.meter(), sink, { signal: r.signal });
    progress.finish();
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    if (r.signal.aborted) r.note(`removed the partial download ${tmp}`);
    throw err;
  }
}

/** Devices, FIFOs, sockets, stdout: written in place, verified as the bytes pass (a failure is reported after the fact). */
export async function writeThrough(
  sink: Writable,
  dl: Download,
  r: Pick<SaveRequest, 'id' | 'name' | 'signal'>,
  refuseBinary = false,
): Promise<void> {
  const hash = dl.sha256 ? createHash('sha256') : undefined;
  const check = refuseBinary ? noBinary() : hashing(undefined);
  const progress = new Progress(`get ${r.name}`, dl.length, 0, process.stderr, sink === process.stdout && process.stdout.isTTY === true);
  // stdout stays open for the exit (and for the next file of `get A B`).
  await pipeline(dl.body, counted(r.id, dl.length), check, hashing(hash), progress.meter(), sink, {
    signal: r.signal,
    end: sink !== process.stdout,
  });
  progress.finish();
  const got = hash?.digest('hex');
  if (got !== undefined && got !== dl.sha256) throw new IntegrityError(r.id, undefined, dl.sha256, `whole-file SHA-256 is ${got}`);
}

/**
 * Opens the file bytes go to before anything is fetched: a stream opened lazily would fail
 * while the download is being opened, with no one listening (an unhandled 'error' event and a
 * stack trace instead of a message naming the output).
 */
async function openOutput(file: string, target: string, flags: 'w' | 'wx' | 'r+', start = 0): Promise<Writable> {
  try {
    const handle = await open(file, flags);
    return handle.createWriteStream({ start });
  } catch (err) {
    throw new CannotWriteError(target, err);
  }
}

export const openThrough = (target: string) => createWriteStream(target, { flags: 'w' });

/** Fails unless exactly `length` bytes pass. */
function counted(id: string, length: number): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.byteLength;
      cb(
        n > length && Number.isFinite(length)
          ? new IntegrityError(id, undefined, undefined, `more than the expected ${length} bytes`)
          : null,
        chunk,
      );
    },
    flush(cb) {
      cb(
        Number.isFinite(length) && n !== length ? new IntegrityError(id, undefined, undefined, `got ${n} bytes, expected ${length}`) : null,
      );
    },
  });
}

function hashing(hash: Hash | undefined): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash?.update(chunk);
      cb(null, chunk);
    },
  });
}

/** Like curl: binary to a terminal is refused (it can wreck the terminal) unless `-o -` says so. */
function noBinary(): Transform {
  let checked = false;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!checked) {
        checked = true;
        const head = chunk.subarray(0, 8192);
        let text = !head.includes(0);
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
        } catch {
          text = false;
        }
        if (!text) return cb(new UsageError('refusing to write binary data to a terminal: use -o FILE, or -o - to write it anyway'));
      }
      cb(null, chunk);
    },
  });
}
