#!/usr/bin/env node
import './heap.js';
import './threadpool.js';
import { readFileSync } from 'node:fs';
import { ChunkstreamError, AbortError } from '../errors.js';
import { describe, flagFor, noExtra, parse, UsageError, type Parsed } from './args.js';
import type { Backend } from './backend.js';
import type { RunContext } from './context.js';
import { envFlags, specOf } from './flags.js';
import { helpFor, USAGE } from './help.js';
import { resolveWhere, type Where } from './location.js';
import { endProgressLine } from './progress.js';
import { COMMANDS, type Mode } from './registry.js';

// Command modules are imported on use: --help, --version and usage errors never load the engine.
const RUN: Record<string, () => Promise<(p: Parsed, ctx: RunContext) => Promise<void>>> = {
  put: async () => (await import('./put.js')).put,
  get: async () => (await import('./get.js')).get,
  ls: async () => (await import('./ls.js')).ls,
  stat: async () => (await import('./commands.js')).stat,
  rm: async () => (await import('./commands.js')).rm,
  gc: async () => (await import('./commands.js')).gc,
  verify: async () => (await import('./commands.js')).verify,
  uploads: async () => (await import('./commands.js')).uploads,
  link: async () => (await import('./link.js')).link,
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function openBackend(where: Where, mode: Mode, origin: Map<string, string>): Promise<Backend> {
  if (where.mode === 'remote') return (await import('./remote.js')).openRemote(where.server, where.token);
  const check = await import('./store-check.js');
  // A read command on a path holding no store says so, and creates nothing there.
  if (mode === 'read') await check.checkStoreExists(where.local);
  else await check.makeStoreDir(where.local, origin);
  return (await import('./backend.js')).openLocal(where.local, mode);
}

/** Ctrl-C (or SIGTERM) aborts the command, which cleans up and says what it left; a second one exits at once. */
function interruptible(): AbortController {
  const controller = new AbortController();
  const on = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    endProgressLine();
    controller.abort(new AbortError(signal === 'SIGINT' ? 'interrupted (Ctrl-C)' : 'terminated (SIGTERM)'));
  };
  process.on('SIGINT', on).on('SIGTERM', on);
  return controller;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`chunkstream ${version()}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] !== undefined ? helpFor(rest[0]) : undefined;
    // No command at all is a usage error: the usage goes to stderr, stdout stays empty.
    (name === undefined ? process.stderr : process.stdout).write(topic ?? USAGE);
    return name === undefined ? 2 : 0;
  }
  const def = COMMANDS[name];
  let parsed: Parsed | undefined;
  let backend: Promise<Backend> | undefined;
  let interrupt: AbortController | undefined;
  try {
    if (!def) throw new UsageError(`unknown command ${JSON.stringify(name)} (try chunkstream --help)`);
    parsed = parse(rest, specOf(def), envFlags(def));
    if (parsed.values.help) {
      process.stdout.write(helpFor(name)!);
      return 0;
    }
    const p = parsed;
    if (name === 'serve') {
      noExtra(p, 0);
      const options = await (await import('./serve-options.js')).serveOptions(p);
      await (await import('./serve.js')).serve(options, (option) => flagFor(option, p.origin));
      return Number(process.exitCode ?? 0);
    }
    const where = resolveWhere(p); // conflicting or misplaced flags fail before anything is opened
    const run = await RUN[name]!();
    // put and get clean up after themselves (partial files, upload sessions); the others just stop.
    interrupt = name === 'put' || name === 'get' ? interruptible() : new AbortController();
    const ctx: RunContext = {
      open: () => (backend ??= openBackend(where, def.mode ?? 'read', p.origin)),
      signal: interrupt.signal,
      out: (line) => void process.stdout.write(`${line}\n`),
      note: (line) => {
        endProgressLine();
        process.stderr.write(`chunkstream: ${line}\n`);
      },
    };
    await run(p, ctx);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    endProgressLine();
    if (interrupt?.signal.aborted) {
      const reason = interrupt.signal.reason as ChunkstreamError;
      process.stderr.write(`chunkstream: aborted: ${reason.message}\n`);
      return reason.message.startsWith('interrupted') ? 130 : 143;
    }
    const { line, exitCode } = describe(err, parsed?.origin);
    process.stderr.write(`${line}\n`);
    return exitCode;
  } finally {
    const b = await backend?.catch(() => undefined);
    await b?.close().catch(() => undefined);
  }
}

// A reader that went away (`chunkstream ls | head`) ends the command quietly, as SIGPIPE would.
process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 141 : 1));

const code = await main(process.argv.slice(2));
// Let stdout drain, then exit: a remote command's keep-alive sockets must not keep us alive.
process.stdout.write('', () => process.exit(code));
