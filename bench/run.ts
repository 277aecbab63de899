/**
 * Runs the benchmark suites, one child process each (so one suite's garbage, page cache use or
 * worker threads do not leak into the next), then writes one JSON for the run and, for a full
 * run (or with --docs), regenerates docs/benchmarks.md and its chart.
 *
 *   npm run bench                     full run → bench/results/full.json + docs
 *   npm run bench -- --quick          short run (~1–2 min) → bench/results/quick.json
 *   npm run bench -- --only=latency   one suite (comma-separated list)
 *   BENCH_QUICK=1 npm run bench       same as --quick
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult, SuiteResult } from './lib/harness.js';
import { writeDocs } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const docs = args.includes('--docs') || !quick;
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');

/** In order; each file is one suite. */
export const SUITES = ['download', 'cache', 'latency', 'upload', 'http', 'websocket', 'memory', 'browser'] as const;
const TIMEOUT_MS = (quick ? 5 : 20) * 60_000;

function runSuite(name: string, out: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const file = path.join(here, `${name}.bench.ts`);
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...(quick ? ['--quick'] : [])], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, BENCH_OUT: out, ...(quick ? { BENCH_QUICK: '1' } : {}) },
    });
    const timer = setTimeout(() => {
      console.error(`suite ${name} timed out after ${TIMEOUT_MS / 60_000} min: killing it`);
      child.kill('SIGTERM');
    }, TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`suite ${name} failed (${signal ?? `exit ${code}`})`));
    });
  });
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const resultsDir = path.join(here, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const suites: SuiteResult[] = [];
  for (const name of SUITES) {
    if (only && !only.includes(name)) continue;
    const out = path.join(os.tmpdir(), `chunkstream-bench-${process.pid}-${name}.json`);
    try {
      await runSuite(name, out);
      suites.push(JSON.parse(readFileSync(out, 'utf8')) as SuiteResult);
    } catch (err) {
      console.error(String(err));
      suites.push({
        suite: name,
        title: name,
        quick,
        setup: {},
        cases: [],
        derived: [],
        notes: [],
        skipped: `failed: ${(err as Error).message}`,
        started: new Date().toISOString(),
        durationMs: 0,
      });
    } finally {
      rmSync(out, { force: true });
    }
  }
  const cpus = os.cpus();
  const run: RunResult = {
    mode: quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    command: `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`,
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      node: process.version,
      v8: process.versions.v8,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      totalMemGiB: Math.round(os.totalmem() / 2 ** 30),
    },
    suites,
    durationMs: Math.round(performance.now() - t0),
  };
  const file = path.join(resultsDir, only ? `${run.mode}-${only.join('-')}.json` : `${run.mode}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  console.log(`\nresults: ${path.relative(root, file)} (${(run.durationMs / 1000).toFixed(0)} s)`);
  if (docs) {
    const written = writeDocs(run, root);
    console.log(`docs: ${written.map((f) => path.relative(root, f)).join(', ')}`);
  }
}

await main();
