import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ChunkstreamError, IntegrityError } from '../errors.js';
import { bool, checkRangeArg, integer, noExtra, str, UsageError, type Parsed } from './args.js';
import { location } from './flags.js';
import { openLocal, type Backend } from './backend.js';
import { fmtBytes, progressLine, progressMeter } from './progress.js';
import { openRemote } from './remote.js';

/** `--server URL` → the HTTP API; otherwise the store named by --dir/--store, opened here. */
export async function backendFor(p: Parsed): Promise<Backend> {
  const server = str(p, 'server');
  return server ? openRemote(server, str(p, 'token')) : openLocal(location(p));
}

function arg(p: Parsed, index: number, what: string): string {
  const v = p.positionals[index];
  if (v === undefined) throw new UsageError(`missing ${what}`);
  return v;
}

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
const json = (v: unknown) => out(JSON.stringify(v, null, 2));

export async function put(p: Parsed, b: Backend): Promise<void> {
  noExtra(p, 1);
  const file = arg(p, 0, '<file|->');
  const fromStdin = file === '-';
  // Only a regular file's size is known up front: a FIFO, /dev/stdin or `<(cmd)` stats as 0
  // bytes, and sending that as the expected size failed every such upload.
  const st = fromStdin ? undefined : await stat(file);
  const size = st?.isFile() ? st.size : undefined;
  const name = str(p, 'name') ?? (fromStdin ? 'stdin' : basename(file));
  const meter = progressLine(`put ${name}`, size);
  let info;
  if (size !== undefined) {
    // A regular file is read in place with positional reads, straight into the engine's buffers.
    const handle = await open(file, 'r');
    try {
      info = await b.put(handle, name, size, (n) => meter.update(n));
    } finally {
      await handle.close();
    }
  } else {
    const source: Readable = fromStdin ? process.stdin : createReadStream(file);
    const counted = progressMeter(`put ${name}`, size);
    source.on('error', (err) => counted.destroy(err)); // a pipe is not a pipeline: forward read errors
    info = await b.put(source.pipe(counted), name, size);
  }
  if (size !== undefined) meter.done();
  out(info.id);
}

export async function get(p: Parsed, b: Backend): Promise<void> {
  noExtra(p, 1);
  const id = arg(p, 0, '<id>');
  const target = str(p, 'output') ?? '-';
  const { body, length, sha256 } = await b.get(id, checkRangeArg(str(p, 'range')));
  const steps = [body, checked(id, length, sha256), progressMeter(`get ${id}`, length)] as const;
  if (target === '-') {
    await pipeline(...steps, process.stdout, { end: false }); // stdout stays open for the exit
    return;
  }
  // Never a half file under the target name: write beside it, rename once complete and checked.
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await pipeline(...steps, createWriteStream(tmp, { flags: 'wx' }));
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

/** Fails the stream unless exactly `length` bytes arrive (and, for whole files, hash to `sha256`). */
function checked(id: string, length: number, sha256: string | undefined): Transform {
  const hash = sha256 ? createHash('sha256') : undefined;
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.byteLength;
      hash?.update(chunk);
      cb(null, chunk);
    },
    flush(cb) {
      if (Number.isFinite(length) && n !== length)
        return cb(new ChunkstreamError('integrity', `file ${id}: got ${n} bytes, expected ${length}`));
      const got = hash?.digest('hex');
      if (got !== undefined && got !== sha256) return cb(new IntegrityError(id, undefined, sha256!, `whole-file SHA-256 is ${got}`));
      cb();
    },
  });
}

export async function ls(p: Parsed, b: Backend): Promise<void> {
  noExtra(p, 0);
  const files = await b.list();
  if (bool(p, 'json')) return void json(files);
  for (const f of files) out(`${f.id}  ${fmtBytes(f.size).padStart(10)}  ${f.created}  ${f.name}`);
}

export async function statCmd(p: Parsed, b: Backend): Promise<void> {
  noExtra(p, 1);
  json(await b.stat(arg(p, 0, '<id>')));
}

export async function rm(p: Parsed, b: Backend): Promise<void> {
  noExtra(p, 1);
  await b.remove(arg(p, 0, '<id>'));
}

export async function gc(p: Parsed, b: Backend): Promise<void> {
  noExtra(p, 0);
  json(await b.gc({ graceMs: integer(p, 'grace-ms'), dryRun: bool(p, 'dry-run') }));
}

export async function verify(p: Parsed, b: Backend): Promise<void> {
  noExtra(p, 1);
  const report = await b.verify(p.positionals[0]);
  json(report);
  if (report.problems.length > 0) {
    throw new ChunkstreamError('integrity', `${report.problems.length} problem(s) found, first: ${report.problems[0]!.message}`);
  }
}
