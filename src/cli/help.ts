import { FLAGS, LOCAL_FLAGS, TUNING_FLAGS, helpLine } from './flags.js';
import { COMMANDS, type CommandDef } from './registry.js';

// No engine imports here: --help must start fast.

export const USAGE = `Usage: chunkstream <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)}${c.summary}\n`)
  .join('')}
Run "chunkstream <command> --help" for a command's options; "chunkstream --version" for the version.
Errors print one line "chunkstream: <code>: <message>"; exit code 2 for bad usage, 1 otherwise, 130 after Ctrl-C.
`;

const lines = (names: readonly string[], c: CommandDef) =>
  names
    .filter((n) => (c.shared as readonly string[]).includes(n))
    .map((n) => helpLine(n, FLAGS[n as keyof typeof FLAGS]))
    .join('');

/** A command's help: its own flags, then only the location, tuning and server flags it takes. */
export function helpFor(name: string): string | undefined {
  const c = COMMANDS[name];
  if (!c) return undefined;
  const own = Object.entries(c.own ?? {})
    .map(([n, f]) => helpLine(n, f))
    .join('');
  const where = lines(LOCAL_FLAGS, c);
  const tuning = lines(TUNING_FLAGS, c);
  const env = 'each also from CHUNKSTREAM_<FLAG>, e.g. CHUNKSTREAM_DIR';
  let text = `Usage: chunkstream ${c.usage}\n\n${c.about}\n\n`;
  if (own) text += `Options:\n${own}\n`;
  if (where) text += `Where the store is (${env}):\n${where}`;
  if (tuning) text += `${c.localOnly ? '' : '\nFor a store opened here (not with --server):\n'}${tuning}`;
  const remote = `${helpLine('server', FLAGS.server)}${helpLine('token', FLAGS.token)}`;
  // A command that only talks to a server (link) says so instead of offering it as an alternative.
  if (!c.localOnly)
    text += where ? `\nOr through a running server's API:\n${remote}` : `The server (${env.replace('DIR', 'SERVER')}):\n${remote}`;
  return `${text}\n  -h, --help                 this help\n`;
}
