import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** The built CLI (`npm run build` first: `npm test` does). */
export const MAIN = path.resolve('dist/cli/main.js');

export function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" before the CLI tests`);
}

/** The parent's CHUNKSTREAM_* variables must not leak into the command under test. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHUNKSTREAM_')));
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export function cli(args: string[], o: { env?: Record<string, string>; input?: Uint8Array; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: cleanEnv(o.env), cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.on('error', () => undefined); // a command that fails early may not read its input
    child.stdin.end(o.input);
  });
}

export interface ServeChild {
  url: string;
  child: ChildProcess;
  /** SIGTERM, then the exit code and stderr. */
  stop(): Promise<{ code: number | null; stderr: string }>;
}

/** `chunkstream serve` as a child process; resolves once it printed the URL it listens on. */
export function serve(args: string[], env: Record<string, string> = {}): Promise<ServeChild> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'serve', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<{ code: number | null; stderr: string }>((r) => child.on('close', (code) => r({ code, stderr })));
    const onEarlyExit = () => reject(new Error(`serve exited before listening: ${stderr}`));
    child.once('close', onEarlyExit);
    child.on('error', reject);
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^chunkstream listening on (http:\/\/\S+)$/.exec(line);
      if (!m) return;
      child.off('close', onEarlyExit);
      resolve({
        url: m[1]!,
        child,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}
