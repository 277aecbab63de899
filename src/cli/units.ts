import { InvalidOptionError } from '../errors.js';

const SI: Record<string, number> = { kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12 };
const IEC: Record<string, number> = { kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/**
 * A byte size as people write it, exactly: `4MB` is 4 000 000 bytes (SI), `4MiB` is 4 194 304
 * (IEC), `4096` or `4096B` bytes; case does not matter, decimals must come out whole
 * (`1.5KiB`). A bare `4M` or `4k` is refused: it means 10^6 to some and 2^20 to others.
 */
export function parseSize(text: string, option: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = (m?.[2] ?? '').toLowerCase();
  if (m && /^[kmgt]$/.test(unit)) {
    const u = unit.toUpperCase();
    throw new InvalidOptionError(
      option,
      `ambiguous unit in ${JSON.stringify(text)}: write ${m[1]}${u}B (SI, ×1000) or ${m[1]}${u}iB (IEC, ×1024)`,
    );
  }
  const factor = unit === '' || unit === 'b' ? 1 : (SI[unit] ?? IEC[unit]);
  const bytes = m && factor !== undefined ? Number(m[1]) * factor : NaN;
  if (!Number.isSafeInteger(bytes)) {
    throw new InvalidOptionError(
      option,
      `must be a whole number of bytes, optionally with a unit: B, KB, MB, GB (×1000) or KiB, MiB, GiB (×1024) (got ${JSON.stringify(text)})`,
    );
  }
  return bytes;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration as people write it: `250ms`, `90s`, `15m`, `1h`, `7d`, or several (`1h30m`); `0`
 * alone is zero. A bare number is refused: seconds to some, milliseconds to others.
 */
export function parseDuration(text: string, option: string): number {
  const t = text.trim().toLowerCase();
  if (t === '0') return 0;
  const parts = /^(\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.test(t) ? t.match(/\d+(?:\.\d+)?(?:ms|s|m|h|d)/g)! : [];
  let ms = 0;
  for (const p of parts) {
    const [, n, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(p)!;
    ms += Number(n) * DURATION_UNITS[unit!]!;
  }
  if (parts.length === 0 || !Number.isSafeInteger(ms)) {
    const bare = /^\d+$/.test(t) ? `: add a unit (${t}s, ${t}ms, …)` : '';
    throw new InvalidOptionError(option, `must be a duration like 250ms, 90s, 15m, 1h, 7d or 1h30m (got ${JSON.stringify(text)})${bare}`);
  }
  return ms;
}

/** A plain non-negative integer (counts, ports, milliseconds). */
export function parseCount(text: string, option: string): number {
  const m = /^\s*(\d+)\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidOptionError(option, `must be an integer (got ${JSON.stringify(text)})`);
  return n;
}

/** A size in the unit it is exact in (`64KiB`, `4MB`), else in bytes: for messages about limits. */
export function exactSize(n: number): string {
  for (const [unit, f] of [
    ['TiB', IEC.tib!],
    ['GiB', IEC.gib!],
    ['MiB', IEC.mib!],
    ['KiB', IEC.kib!],
    ['TB', SI.tb!],
    ['GB', SI.gb!],
    ['MB', SI.mb!],
    ['KB', SI.kb!],
  ] as const) {
    if (n >= f && n % f === 0) return `${n / f}${unit}`;
  }
  return `${n} bytes`;
}

/** `m:ss` or `h:mm:ss`. */
export function fmtClock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(h ? 2 : 1, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** `3 min`, `2 h`, `5 d`: ages in `uploads` and `ls --long`. */
export function fmtAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}
