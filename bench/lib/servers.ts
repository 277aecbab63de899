/**
 * Servers for the network scenarios, each a child process bound to 127.0.0.1 (so its CPU and
 * memory are its own: the client runs in the benchmark process, the server in the child).
 * All children are started with `node --import tsx` so each pays the same loader overhead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..', '..');

export interface Child {
  url: string;
  pid: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

export interface SpawnOptions {
  /** Flags for the child's node itself, e.g. `--initial-heap-size=200`. */
  nodeFlags?: string[];
  timeoutMs?: number;
}

/** Spawns `node [flags] [--import tsx] <script> …args` (tsx for .ts scripts only) and waits for a line with `listening on URL`. */
export function spawnServer(script: string, args: string[], env: NodeJS.ProcessEnv = {}, o: SpawnOptions = {}): Promise<Child> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const tsx = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
    const child = spawn(process.execPath, [...(o.nodeFlags ?? []), ...tsx, script, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    children.add(child);
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(script)} did not start within ${timeoutMs} ms: ${err.slice(-500)}`));
    }, timeoutMs);
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({
          url: m[1]!,
          pid: child.pid!,
          child,
          stop: () => stopChild(child),
        });
      }
    });
    child.on('exit', (code, signal) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`${path.basename(script)} exited (${signal ?? code}) before listening: ${err.slice(-500)}`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      children.delete(child);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The chunkstream server as users run it (the built CLI's `serve`) on `dir`. */
export function chunkstreamServer(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}, o: SpawnOptions = {}): Promise<Child> {
  return spawnServer(path.join(ROOT, 'dist/cli/main.js'), ['serve', '--dir', dir, '--host', '127.0.0.1', '--port', '0', ...extra], env, o);
}

export function serverMissing(): string | undefined {
  return existsSync(path.join(ROOT, 'dist/cli/main.js')) ? undefined : 'dist/cli/main.js is missing: run npm run build first';
}

export function clientMissing(): string | undefined {
  return existsSync(path.join(ROOT, 'src/client/index.ts')) ? undefined : 'src/client/index.ts does not exist yet';
}

/** CPU time (user + system) a process has used so far, in ms (clock ticks of 10 ms), from /proc/PID/stat. */
export function cpuMsOf(pid: number | 'self'): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** VmRSS and VmHWM (peak RSS) of a process, in bytes, from /proc/PID/status. */
export function rssOf(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Samples a process's RSS every `everyMs` until stopped: the highest sample and VmHWM. */
export function sampleRss(pid: number, everyMs = 20): { stop: () => { peakSampled: number; hwm: number; samples: number } } {
  let peak = 0;
  let samples = 0;
  const tick = () => {
    try {
      const { rss } = rssOf(pid);
      samples++;
      if (rss > peak) peak = rss;
    } catch {
      // the process ended
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      clearInterval(timer);
      tick();
      let hwm = Number.NaN;
      try {
        hwm = rssOf(pid).hwm;
      } catch {
        // ended
      }
      return { peakSampled: peak, hwm, samples };
    },
  };
}
