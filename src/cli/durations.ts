import { InvalidOptionError } from '../errors.js';

// The `link` command's duration parsing, apart from link.ts (which makes the request).

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
