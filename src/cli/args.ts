import { parseArgs } from 'node:util';
import { ChunkstreamError, InvalidOptionError, isChunkstreamError } from '../errors.js';
import type { Spec } from './flags.js';

/** A command line the user got wrong (unknown flag, missing argument): exit code 2. */
export class UsageError extends ChunkstreamError {
  constructor(message: string) {
    super('invalid_option', message);
  }
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** Where each value came from, for error messages: `--port` or `CHUNKSTREAM_PORT`. */
  origin: Map<string, string>;
}

/** `chunk-size` → `CHUNKSTREAM_CHUNK_SIZE`. */
export const envName = (flag: string) => `CHUNKSTREAM_${flag.toUpperCase().replace(/-/g, '_')}`;

/**
 * node:util parseArgs in strict mode, then `CHUNKSTREAM_*` environment variables for the flags
 * listed in `fromEnv` that were not given (flags win). Mistakes become UsageErrors.
 */
export function parse(argv: string[], options: Spec, fromEnv: readonly string[], env: NodeJS.ProcessEnv = process.env): Parsed {
  let r;
  try {
    r = parseArgs({
      args: joinDashValues(argv, options),
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    // parseArgs' messages are multi-line with hints; keep the first line.
    throw new UsageError(
      String((err as Error).message)
        .split('\n')[0]!
        .split('. To specify')[0]!,
    );
  }
  const values = { ...r.values } as Parsed['values'];
  const origin = new Map<string, string>();
  for (const k of Object.keys(values)) origin.set(k, `--${k}`);
  for (const flag of fromEnv) {
    const v = env[envName(flag)];
    if (values[flag] !== undefined || v === undefined || v === '') continue;
    const type = options[flag]?.type;
    values[flag] = type === 'boolean' ? envBool(envName(flag), v) : options[flag]?.multiple ? [v] : v;
    origin.set(flag, envName(flag));
  }
  return { values, positionals: r.positionals, origin };
}

/**
 * `--range -100` (a suffix range, as documented) was refused by parseArgs as "ambiguous": a
 * value starting with "-" must be attached. A string flag followed by `-<digit>…` takes it as
 * its value (`--range=-100`); no flag starts with a digit, so nothing else changes meaning.
 */
function joinDashValues(argv: string[], options: Spec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const short = (k: string) => options[k]!.short !== undefined && a === `-${options[k]!.short}`;
    const name = a.startsWith('--') ? a.slice(2) : Object.keys(options).find(short);
    const next = argv[i + 1];
    if (a === '--') return [...out, ...argv.slice(i)];
    if (name && options[name]?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

function envBool(name: string, v: string): boolean {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new InvalidOptionError(name, `must be true or false (got ${JSON.stringify(v)})`);
}

export const str = (p: Parsed, flag: string) => (typeof p.values[flag] === 'string' ? p.values[flag] : undefined);
export const bool = (p: Parsed, flag: string) => p.values[flag] === true;

/** Option key in an InvalidOptionError (`chunkSize`, `tokens.0`) → the flag the user typed. */
export function flagFor(option: string, origin: Map<string, string>): string {
  if (option.startsWith('--') || option.startsWith('CHUNKSTREAM_')) return option;
  const base = option.split('.')[0]!;
  const flag =
    (
      {
        storeUrl: 'store',
        tokens: 'token',
        allowHosts: 'allow-host',
        trustedProxies: 'trusted-proxy',
        allowOrigins: 'allow-origin',
        corsOrigins: 'cors-origin',
        uploadTtlMs: 'upload-ttl',
        bodyIdleTimeoutMs: 'body-idle-timeout',
        sendTimeoutMs: 'send-timeout',
        gcEveryMs: 'gc-every',
        gcGraceMs: 'gc-grace',
        drainTimeoutMs: 'drain-timeout',
      } as Record<string, string>
    )[base] ?? base.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return origin.get(flag) ?? `--${flag}`;
}

/** `chunkstream: <code>: <message>`, one line, naming the flag for option errors. */
export function describe(err: unknown, origin: Map<string, string> = new Map()): { line: string; exitCode: number } {
  if (err instanceof InvalidOptionError) {
    const message = err.message.replace(/^\[chunkstream\] option [^:]+: /, '');
    return { line: `chunkstream: invalid_option: ${flagFor(err.option, origin)}: ${oneLine(message)}`, exitCode: 2 };
  }
  if (isChunkstreamError(err))
    return { line: `chunkstream: ${err.code}: ${oneLine(err.message)}`, exitCode: err.code === 'invalid_option' ? 2 : 1 };
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code.toLowerCase() : 'internal';
  return { line: `chunkstream: ${code}: ${oneLine(e?.message ?? String(err))}`, exitCode: 1 };
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();

/** `A-B`, `A-` or `-N`; one range only (the CLI writes one contiguous output). */
export function checkRangeArg(range: string | undefined): string | undefined {
  if (range === undefined) return undefined;
  const m = /^(?:(\d+)-(\d*)|-\d+)$/.exec(range);
  if (!m || (m[1] !== undefined && m[2] !== '' && Number(m[2]) < Number(m[1])))
    throw new InvalidOptionError('--range', `expected A-B, A- or -N (got ${JSON.stringify(range)})`);
  return range;
}

export function noExtra(p: Parsed, max: number): void {
  if (p.positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(p.positionals[max])}`);
}
