/**
 * Side by side, interleaved: every repetition runs each case once, in turn (A B C A B C …), so a
 * shared machine's drifting load hits all cases alike; tables report medians. Whole commands
 * (a CLI put, curl against a server) are timed as processes: what a user waits for.
 */
import { spawn } from 'node:child_process';
import { QUICK, caseResult, median, type CaseResult } from './harness.js';

export interface TimedCase {
  name: string;
  /** The measured operation (in this process), or a command line run as a child process (made after `before`). */
  fn?: () => Promise<void>;
  cmd?: string[] | (() => string[]);
  env?: NodeJS.ProcessEnv;
  /** Untimed setup and cleanup around each run. */
  before?: () => Promise<void>;
  after?: () => Promise<void>;
  bytes?: number;
  params?: Record<string, string | number | boolean>;
}

/** Runs `cmd`; resolves when it exited 0, rejects with its stderr otherwise. */
export function runCommand(cmd: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${cmd.join(' ')} exited ${signal ?? code}: ${err.trim().slice(-500)}`)),
    );
  });
}

export async function runInterleaved(cases: TimedCase[], options: { reps?: number; warmup?: number } = {}): Promise<CaseResult[]> {
  const reps = options.reps ?? (QUICK ? 3 : 7);
  const warmup = options.warmup ?? 1;
  const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const once = async (c: TimedCase): Promise<number> => {
    await c.before?.();
    const t0 = performance.now();
    try {
      if (c.fn) await c.fn();
      else await runCommand(typeof c.cmd === 'function' ? c.cmd() : c.cmd!, c.env);
      return performance.now() - t0;
    } finally {
      await c.after?.();
    }
  };
  for (let r = 0; r < warmup + reps; r++) {
    for (const c of cases) {
      const ms = await once(c);
      if (r >= warmup) times.get(c.name)!.push(ms);
      process.stdout.write(`  ${c.name}: ${ms.toFixed(0)} ms${r < warmup ? ' (warm-up)' : ''}\n`);
    }
  }
  return cases.map((c) => {
    const t = times.get(c.name)!;
    return caseResult(c, t, 1, (med) => ({ ops: 1000 / med, margin: spread(t), samples: t.length }));
  });
}

/** Half the min–max range as a percentage of the median: how noisy the machine was for this case. */
function spread(t: number[]): number {
  const m = median(t);
  return m > 0 ? ((Math.max(...t) - Math.min(...t)) / 2 / m) * 100 : 0;
}
