import { InvalidOptionError } from '../errors.js';
import { str, UsageError, type Parsed } from './args.js';
import { parseCount, parseDuration } from './units.js';

// Durations of the commands (link's lifetime, gc's grace), apart from the requests they make.

const LINK_MAX_S = 7 * 24 * 3600;

/** `90s`, `15m`, `1h30m`, `7d` → whole seconds, 1 s .. 7 days (what the server accepts); the same syntax as serve's durations. */
export function parseExpires(value: string | undefined, flag = '--expires'): number {
  const must = `must be whole seconds from 1s to 7d, like 90s, 15m, 1h30m or 7d (got ${JSON.stringify(value)})`;
  // parseDuration's own hint for a bare number offers ms, which a link cannot have.
  const bare = /^\s*(\d+)\s*$/.exec(value ?? '')?.[1];
  if (bare !== undefined) throw new InvalidOptionError(flag, `${must}: add a unit (${bare}s, ${bare}m, ${bare}h or ${bare}d)`);
  const ms = parseDuration(value ?? '1h', flag);
  if (!(ms >= 1000 && ms <= LINK_MAX_S * 1000 && ms % 1000 === 0)) throw new InvalidOptionError(flag, must);
  return ms / 1000;
}

/**
 * gc's grace period in ms: `--grace 1h` (a duration, like every other flag), or `--grace-ms N`
 * as before (a bare number is milliseconds there; a duration with a unit is taken too).
 */
export function parseGrace(p: Parsed): number | undefined {
  const grace = str(p, 'grace');
  const ms = str(p, 'grace-ms');
  if (grace !== undefined && ms !== undefined) throw new UsageError('--grace and --grace-ms both set the grace period: give one');
  if (grace !== undefined) return parseDuration(grace, p.origin.get('grace') ?? '--grace');
  if (ms === undefined) return undefined;
  const flag = p.origin.get('grace-ms') ?? '--grace-ms';
  return /^\s*\d+\s*$/.test(ms) ? parseCount(ms, flag) : parseDuration(ms, flag);
}
