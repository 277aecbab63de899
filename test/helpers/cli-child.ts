import { spawn, type ChildProcess } from 'node:child_process';
import { MAIN } from './http-cli.js';

export interface CliChild {
  child: ChildProcess;
  stderr(): string;
  stdout(): Buffer;
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }>;
}

/** The CLI as a child process the test can signal mid-way (SIGINT, SIGKILL). */
export function spawnCli(args: string[], env: Record<string, string> = {}, cwd?: string): CliChild {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CHUNKSTREAM_')));
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...clean, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err })),
  );
  return { child, stderr: () => err, stdout: () => Buffer.concat(out), exited };
}
