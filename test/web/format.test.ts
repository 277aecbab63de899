import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fmtBytes } from '../../src/internal/format.js';
import { RateMeter, formatBytes, formatDuration, formatPercent, formatWhen, progressText } from '../../src/web/format.js';

describe('the page shows sizes, rates and times as people read them', () => {
  it("sizes in the CLI's binary units, one decimal (issue 25: the page said 157 MB where the CLI said 150.0 MiB)", () => {
    expect([0, 999, 1023, 1024, 1536, 157_286_400, 1_500_017, 5 * 2 ** 40, NaN].map(formatBytes)).toEqual([
      '0 B',
      '999 B',
      '1023 B',
      '1.0 KiB',
      '1.5 KiB',
      '150.0 MiB',
      '1.4 MiB',
      '5.0 TiB',
      '0 B',
    ]);
  });

  it('says every size exactly as the CLI does', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), (n) => formatBytes(n) === fmtBytes(n)),
      { numRuns: 2000 },
    );
  });

  it('durations, percentages and dates', () => {
    expect([0.2, 59, 61, 3599, 7260].map(formatDuration)).toEqual(['1 s', '59 s', '1 min 1 s', '59 min 59 s', '2 h 1 min']);
    expect(formatDuration(Infinity)).toBe('');
    expect([formatPercent(0, 10), formatPercent(999, 1000), formatPercent(0, 0)]).toEqual(['0%', '99%', '100%']);
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(formatWhen('2026-12-01T11:59:30Z', now)).toBe('just now');
    expect(formatWhen('2026-12-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatWhen('2026-12-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatWhen('not a date', now)).toBe('not a date');
  });

  it('a progress line has the percent, then rate and time left once a rate is known', () => {
    expect(progressText(25, 100, 0)).toBe('25%');
    expect(progressText(4 * 2 ** 20, 16 * 2 ** 20, 2 * 2 ** 20)).toBe('25% · 2.0 MiB/s · 6 s left');
  });

  it('the rate follows the last few seconds of samples', () => {
    const m = new RateMeter(5000);
    expect(m.rate()).toBe(0);
    m.add(0, 0);
    expect(m.rate()).toBe(0); // one sample: no rate yet
    m.add(1_000_000, 1000);
    expect(m.rate()).toBe(1_000_000);
    // Older samples leave the window: a slowdown shows within it.
    m.add(2_000_000, 6000);
    m.add(2_100_000, 11_000);
    expect(m.rate()).toBeCloseTo(20_000, 0);
    m.reset();
    expect(m.rate()).toBe(0);
  });
});
