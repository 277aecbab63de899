// Sizes, rates and times as people read them. Sizes in the CLI's units (binary: KiB, MiB, one
// decimal), so the page and `chunkstream ls` say the same of one file: src/internal/format.ts's
// fmtBytes, which the page cannot import (its build takes only the SDK from outside src/web);
// test/web/format.test.ts checks that the two agree.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let v = Number.isFinite(n) ? Math.max(0, n) : 0;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[i]}`;
}

export const formatRate = (bytesPerSecond: number) => `${formatBytes(bytesPerSecond)}/s`;

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** "just now", "5 min ago", "3 h ago", then the date: the exact time is in the element's title. */
export function formatWhen(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const ago = (now - t) / 1000;
  if (ago < 60) return 'just now';
  if (ago < 3600) return `${Math.floor(ago / 60)} min ago`;
  if (ago < 86400) return `${Math.floor(ago / 3600)} h ago`;
  const d = new Date(t);
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export const formatPercent = (done: number, total: number) => (total > 0 ? `${Math.floor((100 * done) / total)}%` : '100%');

/** A transfer row's progress line: "42% · 12.5 MB/s · 3 s left" (the rate and time once a rate is known). */
export function progressText(done: number, total: number, bytesPerSecond: number): string {
  const parts = [formatPercent(done, total)];
  if (bytesPerSecond > 0) parts.push(formatRate(bytesPerSecond), `${formatDuration((total - done) / bytesPerSecond)} left`);
  return parts.join(' · ');
}

/** Bytes per second over the last few seconds of samples (smooth enough, and quick to follow a change). */
export class RateMeter {
  private samples: { t: number; bytes: number }[] = [];
  constructor(private readonly windowMs = 5000) {}

  add(bytes: number, t = performance.now()): void {
    this.samples.push({ t, bytes });
    while (this.samples.length > 2 && t - this.samples[0]!.t > this.windowMs) this.samples.shift();
  }

  /** 0 until two samples exist. */
  rate(): number {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.t <= first.t) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }

  reset(): void {
    this.samples = [];
  }
}
