import { InvalidOptionError } from '../errors.js';
import { parseDuration } from './units.js';

// The `link` command's duration parsing, apart from link.ts (which makes the request).

const LINK_MAX_S = 7 * 24 * 3600;

/** `90s`, `15m`, `1h30m`, `7d` → whole seconds, 1 s .. 7 days (what the server accepts); the same syntax as serve's durations. */
export function parseExpires(value: string | undefined, flag = '--expires'): number {
  const ms = parseDuration(value ?? '1h', flag);
  if (!(ms >= 1000 && ms <= LINK_MAX_S * 1000 && ms % 1000 === 0)) {
    throw new InvalidOptionError(flag, `must be whole seconds from 1s to 7d, like 90s, 15m, 1h30m or 7d (got ${JSON.stringify(value)})`);
  }
  return ms / 1000;
}
