import { InvalidOptionError } from '../errors.js';
import { LIMITS } from '../options.js';
import { DEFAULT_DATA_DIR } from '../storage/open.js';
import { UsageError, str, type Parsed } from './args.js';
import { LOCAL_FLAGS, S3_FLAGS, TUNING_FLAGS } from './flags.js';
import { exactSize, parseCount, parseSize } from './units.js';

export interface LocalLocation {
  dir: string;
  store?: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3ForcePathStyle?: boolean;
  chunkSize?: number;
  uploadConcurrency?: number;
  downloadConcurrency?: number;
}

export type Where = { mode: 'local'; local: LocalLocation } | { mode: 'remote'; server: string; token?: string };

const given = (p: Parsed, flag: string) => p.values[flag] !== undefined;
/** Typed on this command line (not from a CHUNKSTREAM_* variable). */
const typed = (p: Parsed, flag: string) => given(p, flag) && p.origin.get(flag) === `--${flag}`;

/** Drops a value that came from the environment and does not apply here (flags win over variables). */
function ignore(p: Parsed, flag: string): void {
  delete p.values[flag];
  p.origin.delete(flag);
}

/**
 * Local store or server, and the settings that go with it. A flag that conflicts with another
 * or would be ignored is a usage error; a CHUNKSTREAM_* variable that does not apply is ignored
 * (it may be there for other commands). Mutates `p` to drop those variables.
 */
export function resolveWhere(p: Parsed): Where {
  const typedLocal = [...LOCAL_FLAGS, ...TUNING_FLAGS].filter((f) => typed(p, f));
  if (typed(p, 'server') && typedLocal.length > 0) {
    const f = typedLocal[0]!;
    const why = (TUNING_FLAGS as readonly string[]).includes(f) ? "the server's own setting applies" : 'it names a local store';
    throw new UsageError(`--${f} does not apply with --server (${why})`);
  }
  // A server from the environment yields to a local store named on the command line.
  if (given(p, 'server') && !typed(p, 'server') && typedLocal.some((f) => (LOCAL_FLAGS as readonly string[]).includes(f)))
    ignore(p, 'server');
  if (given(p, 'server')) {
    for (const f of [...LOCAL_FLAGS, ...TUNING_FLAGS]) ignore(p, f);
    return { mode: 'remote', server: str(p, 'server')!, token: str(p, 'token') };
  }
  if (typed(p, 'token')) throw new UsageError('--token applies only with --server');
  ignore(p, 'token');
  return { mode: 'local', local: localLocation(p) };
}

/** --dir / --store / --s3-* and the tuning flags, checked: for commands and for serve. */
export function localLocation(p: Parsed): LocalLocation {
  if (typed(p, 'dir') && typed(p, 'store')) throw new UsageError('--dir and --store both name a store: give one');
  if (typed(p, 'dir')) ignore(p, 'store');
  else if (given(p, 'store')) ignore(p, 'dir');
  const store = str(p, 'store');
  const s3 = store?.startsWith('s3://') === true;
  for (const f of S3_FLAGS) {
    if (s3 || !given(p, f)) continue;
    if (typed(p, f)) throw new UsageError(`--${f} applies only with --store s3://BUCKET/PREFIX`);
    ignore(p, f);
  }
  return {
    dir: str(p, 'dir') ?? DEFAULT_DATA_DIR,
    store,
    s3Endpoint: str(p, 's3-endpoint'),
    s3Region: str(p, 's3-region'),
    s3ForcePathStyle: p.values['s3-force-path-style'] === undefined ? undefined : p.values['s3-force-path-style'] === true,
    chunkSize: sizeFlag(p, 'chunk-size', LIMITS.chunkSize),
    uploadConcurrency: countFlag(p, 'upload-concurrency', LIMITS.concurrency),
    downloadConcurrency: countFlag(p, 'download-concurrency', LIMITS.concurrency),
  };
}

const nameOf = (p: Parsed, flag: string) => p.origin.get(flag) ?? `--${flag}`;

/** A size flag within [min, max], said in the user's units: `--chunk-size: must be 64KiB..64MiB (got 1KiB)`. */
export function sizeFlag(p: Parsed, flag: string, range?: readonly [number, number]): number | undefined {
  const v = str(p, flag);
  if (v === undefined) return undefined;
  const n = parseSize(v, nameOf(p, flag));
  if (range && (n < range[0] || n > range[1])) {
    throw new InvalidOptionError(
      nameOf(p, flag),
      `must be ${exactSize(range[0])}..${exactSize(range[1])} (got ${v.trim()}${/^\d+$/.test(v.trim()) ? ' bytes' : ''})`,
    );
  }
  return n;
}

export function countFlag(p: Parsed, flag: string, range?: readonly [number, number]): number | undefined {
  const v = str(p, flag);
  if (v === undefined) return undefined;
  const n = parseCount(v, nameOf(p, flag));
  if (range && (n < range[0] || n > range[1])) throw new InvalidOptionError(nameOf(p, flag), `must be ${range[0]}..${range[1]} (got ${n})`);
  return n;
}
