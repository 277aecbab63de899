#!/usr/bin/env node
import { checkRangeArg, describe, noExtra, parse, str, UsageError, type Parsed } from './args.js';
import { resolveStoreOptions } from '../options.js';
import { CLIENT_FLAGS, LOCATION_FLAGS, SERVE_FLAGS, location } from './flags.js';
import { HELP, USAGE } from './help.js';
import { LINK_COMMAND } from './link-command.js';

type Flags = Parameters<typeof parse>[1];
type Name = 'put' | 'get' | 'ls' | 'statCmd' | 'rm' | 'gc' | 'verify';
interface Command {
  flags: Flags;
  /** Argument checks that need no store: they fail before anything is opened. */
  check?: (p: Parsed) => void;
  run: (p: Parsed) => Promise<void>;
}

/** Store tuning flags are validated before a store is opened (or a server is called). */
function checkStore(p: Parsed): void {
  const { chunkSize, uploadConcurrency, downloadConcurrency } = location(p);
  resolveStoreOptions({ chunkSize, uploadConcurrency, downloadConcurrency });
}

// Command modules are imported on use: --help and usage errors never load the engine.
const client = (name: Name) => async (p: Parsed) => {
  const cmd = await import('./commands.js');
  const b = await cmd.backendFor(p);
  try {
    await cmd[name](p, b);
  } finally {
    await b.close();
  }
};

const COMMANDS: Record<string, Command> = {
  serve: {
    flags: SERVE_FLAGS,
    run: async (p) => {
      noExtra(p, 0);
      const options = await (await import('./serve-options.js')).serveOptions(p);
      await (await import('./serve.js')).serve(options);
    },
  },
  put: { flags: { ...CLIENT_FLAGS, name: { type: 'string' } }, run: client('put') },
  get: {
    flags: { ...CLIENT_FLAGS, output: { type: 'string', short: 'o' }, range: { type: 'string' } },
    check: (p) => (checkStore(p), void checkRangeArg(str(p, 'range'))),
    run: client('get'),
  },
  ls: { flags: { ...CLIENT_FLAGS, json: { type: 'boolean' } }, run: client('ls') },
  stat: { flags: CLIENT_FLAGS, run: client('statCmd') },
  rm: { flags: CLIENT_FLAGS, run: client('rm') },
  gc: { flags: { ...CLIENT_FLAGS, 'grace-ms': { type: 'string' }, 'dry-run': { type: 'boolean' } }, run: client('gc') },
  verify: { flags: CLIENT_FLAGS, run: client('verify') },
  link: LINK_COMMAND,
};

/** Flags that may also come from CHUNKSTREAM_* variables: where the store is, and auth. */
const ENV_FLAGS = [
  ...Object.keys(LOCATION_FLAGS),
  ...['server', 'token', 'host', 'port', 'tokens-file', 'insecure', 'max-transfer-bytes'],
  ...['allow-host', 'allow-origin', 'cors-origin', 'public-url', 'link-secret', 'link-secret-file'],
];

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    // No command at all is a usage error: the usage goes to stderr, stdout stays empty.
    (name === undefined ? process.stderr : process.stdout).write(topic && HELP[topic] ? HELP[topic] : USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  const check = command?.check ?? (name === 'serve' ? undefined : checkStore);
  let parsed: Parsed | undefined;
  try {
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)} (try chunkstream --help)`);
    parsed = parse(
      rest,
      command.flags,
      ENV_FLAGS.filter((f) => f in command.flags),
    );
    if (parsed.values.help) {
      process.stdout.write(HELP[name]!);
      return 0;
    }
    check?.(parsed);
    await command.run(parsed);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    const { line, exitCode } = describe(err, parsed?.origin);
    process.stderr.write(`${line}\n`);
    return exitCode;
  }
}

const code = await main(process.argv.slice(2));
// Let stdout drain, then exit: a remote command's keep-alive sockets must not keep us alive.
process.stdout.write('', () => process.exit(code));
