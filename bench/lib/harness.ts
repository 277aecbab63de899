/**
 * The shared harness: every suite is a set of benny cases run side by side in one process.
 *
 * - benny (benchmark.js) drives repetition, warm-up and statistics (ops/s ± margin).
 * - Each case also times its own operation (performance.now around `fn` only), so work that must
 *   happen between operations (`after`: deleting 1 GiB of uploaded chunks, say) is not counted.
 *   Tables report the median of these per-op times; benny's ops/s and margin stay in the JSON.
 * - `measureAlloc` runs an operation a few extra times outside benny to measure memory (see there).
 */
import { writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import b from 'benny';

export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
export const MB = 1e6; // MB/s are decimal, like Go's testing.B
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

export interface BenchCase {
  name: string;
  /** The measured operation. */
  fn: () => Promise<void>;
  /** Untimed work after each operation (cleanup). */
  after?: () => Promise<void>;
  /** Bytes moved per operation (for MB/s). */
  bytes?: number;
  /** Free-form parameters copied into the result (concurrency, variant, …). */
  params?: Record<string, string | number | boolean>;
  /** benny/benchmark.js options for this case. */
  options?: { minSamples?: number; maxTime?: number; initCount?: number; delay?: number };
}

export interface AllocStats {
  /** Median over the runs of Δ(heapUsed + arrayBuffers): bytes allocated and not yet collected at the end of the op. */
  retainedDelta: number;
  /** Median over the runs of the peak of (heapUsed + arrayBuffers) above the start, sampled at each delivered chunk. */
  peakAbove: number;
  /** Median number of GCs during the op (each one hides some of the allocation from the delta). */
  gcs: number;
  runs: number;
}

export interface CaseResult {
  name: string;
  params: Record<string, string | number | boolean>;
  bytes?: number;
  /** Per-op times measured inside the case (ms), all samples. */
  timesMs: number[];
  medianMs: number;
  minMs: number;
  /** bytes / median time, in MB/s (1 MB = 1e6 bytes). */
  mbps?: number;
  benny: { ops: number; margin: number; samples: number };
  alloc?: AllocStats;
  extra?: Record<string, unknown>;
}

/** One panel of the generated chart (docs/benchmarks.svg). */
export interface Chart {
  title: string;
  /** Axis label, e.g. "× bound (lower is better)". */
  unit: string;
  bars: { label: string; value: number; group?: string }[];
  /** Vertical reference lines: targets, reference values. */
  lines?: { label: string; value: number }[];
}

export interface SuiteResult {
  suite: string;
  title: string;
  quick: boolean;
  /** What was measured, how, and on what: shown under the table. */
  setup: Record<string, string | number | boolean>;
  cases: CaseResult[];
  /** Ratios and verdicts computed by the suite. */
  derived: Record<string, unknown>[];
  notes: string[];
  chart?: Chart;
  /** Set when the suite could not run (missing server, …). */
  skipped?: string;
  started: string;
  durationMs: number;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function defaultOptions(kind: 'small' | 'large'): NonNullable<BenchCase['options']> {
  if (kind === 'small') return QUICK ? { minSamples: 2, maxTime: 0.2, delay: 0.01 } : { minSamples: 8, maxTime: 3, delay: 0.05 };
  return QUICK ? { minSamples: 2, maxTime: 0.1, delay: 0.05 } : { minSamples: 3, maxTime: 1, delay: 0.2 };
}

/**
 * Runs cases side by side as one benny suite. benny calls each case function twice while it
 * prepares the suite (once without awaiting it); the `armed` flag turns those calls into no-ops so
 * no stray operation overlaps the measured ones.
 */
export async function runCases(suiteName: string, cases: BenchCase[]): Promise<CaseResult[]> {
  let armed = false;
  const times = new Map<string, number[]>();
  const entries = cases.map((c) => {
    const t: number[] = [];
    times.set(c.name, t);
    return b.add(
      c.name,
      async () => {
        if (!armed) return;
        const t0 = performance.now();
        await c.fn();
        t.push(performance.now() - t0);
        if (c.after) await c.after();
      },
      c.options ?? {},
    );
  });
  const arm = async () => {
    const f = (suiteObj: unknown) => {
      armed = true;
      return suiteObj;
    };
    Object.defineProperty(f, 'name', { value: 'arm' });
    return f;
  };
  const summary = await b.suite(
    suiteName,
    ...entries,
    arm as unknown as ReturnType<typeof b.add>,
    b.cycle((result) => `  ${result.name}: ${result.ops.toPrecision(4)} ops/s ±${result.margin.toFixed(1)}% (${result.samples} samples)`),
  );
  return cases.map((c) => {
    const r = summary.results.find((x) => x.name === c.name);
    return caseResult(c, times.get(c.name)!, 3, () => ({ ops: r?.ops ?? 0, margin: r?.margin ?? 0, samples: r?.samples ?? 0 }));
  });
}

/** One case's result from its sample times (ms): medians, MB/s when the case says its bytes. */
export function caseResult(
  c: { name: string; params?: Record<string, string | number | boolean>; bytes?: number },
  t: number[],
  decimals: number,
  stats: (medianMs: number) => CaseResult['benny'],
): CaseResult {
  const med = median(t);
  const scale = 10 ** decimals;
  return {
    name: c.name,
    params: c.params ?? {},
    ...(c.bytes !== undefined ? { bytes: c.bytes, mbps: c.bytes / MB / (med / 1000) } : {}),
    timesMs: t.map((x) => Math.round(x * scale) / scale),
    medianMs: med,
    minMs: Math.min(...t),
    benny: stats(med),
  };
}

declare const gc: (() => void) | undefined;

function forceGc(): void {
  if (typeof gc === 'function') {
    gc();
    gc();
  }
}

/**
 * Memory per operation, measured with `process.memoryUsage()` (V8 heap used + ArrayBuffer bytes,
 * which is where Node Buffers live): force two GCs, run the op once, sampling at each delivered
 * chunk through `probe`, and report
 * - retainedDelta: (heapUsed + arrayBuffers) at the end minus at the start. A lower bound of the
 *   bytes allocated: a GC during the op (counted in `gcs`) frees some of it first;
 * - peakAbove: the highest (heapUsed + arrayBuffers) seen at a probe, minus the start: what the
 *   op holds at once (its working set of buffers).
 * Needs `--expose-gc` (run.ts passes it).
 */
export async function measureAlloc(op: (probe: () => void) => Promise<void>, runs = QUICK ? 1 : 5): Promise<AllocStats> {
  const deltas: number[] = [];
  const peaks: number[] = [];
  const gcCounts: number[] = [];
  for (let i = 0; i < runs; i++) {
    let gcs = 0;
    const obs = new PerformanceObserver((list) => {
      gcs += list.getEntries().length;
    });
    forceGc();
    await new Promise((r) => setImmediate(r));
    obs.observe({ entryTypes: ['gc'] });
    const m0 = process.memoryUsage();
    const base = m0.heapUsed + m0.arrayBuffers;
    let peak = base;
    const probe = () => {
      const m = process.memoryUsage();
      const v = m.heapUsed + m.arrayBuffers;
      if (v > peak) peak = v;
    };
    await op(probe);
    probe();
    const m1 = process.memoryUsage();
    await new Promise((r) => setImmediate(r));
    obs.disconnect();
    deltas.push(m1.heapUsed + m1.arrayBuffers - base);
    peaks.push(peak - base);
    gcCounts.push(gcs);
  }
  return { retainedDelta: median(deltas), peakAbove: median(peaks), gcs: median(gcCounts), runs };
}

export function startSuite(
  suite: string,
  title: string,
): { finish: (r: Omit<SuiteResult, 'suite' | 'title' | 'quick' | 'started' | 'durationMs'>) => void } {
  const started = new Date();
  const t0 = performance.now();
  console.log(`\n== ${suite}: ${title}${QUICK ? ' (quick)' : ''}`);
  return {
    finish(r) {
      const result: SuiteResult = {
        suite,
        title,
        quick: QUICK,
        started: started.toISOString(),
        durationMs: Math.round(performance.now() - t0),
        ...r,
      };
      const out = process.env.BENCH_OUT;
      if (out) writeFileSync(out, JSON.stringify(result, null, 2));
      else console.log(JSON.stringify(result, null, 2));
    },
  };
}

export const fmt = {
  ms: (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)),
  mbps: (x: number) => x.toFixed(0),
  ratio: (x: number) => x.toFixed(2),
  mib: (x: number) => (x / MiB).toFixed(1),
};

/** One `npm run bench`: what bench/run.ts writes and bench/report.ts renders. */
export interface RunResult {
  mode: 'quick' | 'full';
  date: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string; v8: string; platform: string; totalMemGiB: number };
  suites: SuiteResult[];
  durationMs: number;
}
