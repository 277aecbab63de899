import { InvalidOptionError } from '../errors.js';
import { str, UsageError, type Parsed } from './args.js';

// The `link` command's entry in main.ts's table: flags and argument checks only (no I/O), so
// --help and usage errors stay fast; the request itself is in link.ts, loaded on use.

const LINK_MAX_S = 7 * 24 * 3600;

/** `90`, `90s`, `15m`, `1h`, `7d` → seconds (1 s .. 7 days, what the server accepts). */
export function parseExpires(value: string | undefined, flag = '--expires'): number {
  const m = /^\s*(\d+)\s*(s|m|h|d)?\s*$/i.exec(value ?? '1h');
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(m?.[2] ?? 's').toLowerCase() as 's' | 'm' | 'h' | 'd'];
  const seconds = m ? Number(m[1]) * unit : NaN;
  if (!(seconds >= 1 && seconds <= LINK_MAX_S)) {
    throw new InvalidOptionError(flag, `must be a duration from 1s to 7d, like 90s, 15m, 1h or 7d (got ${JSON.stringify(value)})`);
  }
  return seconds;
}

export const LINK_COMMAND = {
  flags: { server: { type: 'string' }, token: { type: 'string' }, expires: { type: 'string' } },
  check(p: Parsed): void {
    if (p.positionals.length !== 1)
      throw new UsageError(p.positionals.length ? `unexpected argument ${JSON.stringify(p.positionals[1])}` : 'missing <id>');
    if (!str(p, 'server')) throw new UsageError('link needs --server URL (or CHUNKSTREAM_SERVER): the server signs the link');
    parseExpires(str(p, 'expires'), p.origin.get('expires'));
  },
  run: async (p: Parsed) => (await import('./link.js')).link(p),
} as const;
