/**
 * Debian's Chromium driven over the DevTools protocol directly (a pipe, Runtime and Page domains
 * only), for the browser benchmark.
 *
 * Why not playwright-core, as the tests use: Playwright enables the Network domain on every page
 * it drives, and Chromium then copies every WebSocket message, base64-encoded, into a DevTools
 * event sent to the driver. That cost is the driver's, not the page's: a bare WebSocket receiving
 * 256 MiB ran at 21–40 MB/s under Playwright (the browser process and Node busy encoding and
 * decoding the events) against ~300 MB/s here, while fetch() is hardly affected (its bodies are
 * not copied into events). A user's browser has no DevTools attached, so neither has the benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking'];

export interface CdpPage {
  /** Evaluates `expression` in the page (a promise is awaited); the value comes back as JSON. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Any DevTools method on the page's session (Profiler.*, say). */
  send<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T>;
  /** Console lines of the page (errors and warnings are also printed). */
  readonly console: string[];
  readonly version: string;
  close(): Promise<void>;
}

interface Reply {
  id?: number;
  method?: string;
  sessionId?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** Launches a fresh headless Chromium (own profile, removed at close) with one page at `url`. */
export async function launchCdpPage(url: string): Promise<CdpPage> {
  const profile = await mkdtemp(path.join(tmpdir(), 'chunkstream-bench-chromium-'));
  const child: ChildProcess = spawn(CHROMIUM, [...ARGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
  });
  const input = child.stdio[3] as Writable;
  const output = child.stdio[4] as Readable;
  let nextId = 0;
  const waiting = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const listeners = new Set<(m: Reply) => void>();
  let buffered = '';
  output.setEncoding('utf8');
  output.on('data', (text: string) => {
    buffered += text;
    for (let end = buffered.indexOf('\0'); end >= 0; end = buffered.indexOf('\0')) {
      const m = JSON.parse(buffered.slice(0, end)) as Reply;
      buffered = buffered.slice(end + 1);
      const w = m.id === undefined ? undefined : waiting.get(m.id);
      if (w) {
        waiting.delete(m.id!);
        if (m.error) w.reject(new Error(m.error.message));
        else w.resolve(m.result ?? {});
      } else for (const l of listeners) l(m);
    }
  });
  child.once('exit', () => {
    for (const w of waiting.values()) w.reject(new Error('Chromium exited'));
    waiting.clear();
  });
  const call = <T>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, { resolve: resolve as (r: Record<string, unknown>) => void, reject });
      input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });

  const { product } = await call<{ product: string }>('Browser.getVersion');
  const { targetId } = await call<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await call<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
  const lines: string[] = [];
  listeners.add((m) => {
    if (m.sessionId !== sessionId || m.method !== 'Runtime.consoleAPICalled') return;
    const p = m.params as { type: string; args: { value?: unknown; description?: string }[] };
    const line = `${p.type}: ${p.args.map((a) => (typeof a.value === 'string' ? a.value : a.value === undefined ? (a.description ?? '') : JSON.stringify(a.value))).join(' ')}`;
    lines.push(line);
    if (p.type === 'error' || p.type === 'warning') console.error(`  page ${line}`);
  });
  await call('Runtime.enable', {}, sessionId);
  await call('Page.enable', {}, sessionId);
  const loaded = new Promise<void>((resolve) => {
    const l = (m: Reply) => {
      if (m.sessionId !== sessionId || m.method !== 'Page.loadEventFired') return;
      listeners.delete(l);
      resolve();
    };
    listeners.add(l);
  });
  await call('Page.navigate', { url }, sessionId);
  await loaded;

  return {
    console: lines,
    version: product,
    send: (method, params) => call(method, params, sessionId),
    async evaluate<T>(expression: string): Promise<T> {
      const r = await call<{ result: { value?: T }; exceptionDetails?: { exception?: { description?: string }; text: string } }>(
        'Runtime.evaluate',
        { expression, awaitPromise: true, returnByValue: true },
        sessionId,
      );
      if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value as T;
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        await call('Browser.close').catch(() => undefined);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(profile, { recursive: true, force: true });
    },
  };
}
