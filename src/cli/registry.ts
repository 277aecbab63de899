import { FLAGS, LOCAL_FLAGS, type CommandFlags, type FlagDoc } from './flags.js';

// No engine imports here: --help and usage errors must start fast.

export type Mode = 'read' | 'write';

export interface CommandDef extends CommandFlags {
  usage: string;
  /** One line for the command list. */
  summary: string;
  /** The command's help, after the usage line. */
  about: string;
  /** How the store is used: a read command on a path holding no store fails (and creates nothing). */
  mode?: Mode;
}

const d = (type: FlagDoc['type'], help: string, more: Partial<FlagDoc> = {}): FlagDoc => ({ type, help, ...more });
const json = d('boolean', 'print JSON');
/** A serve flag taking a value, also read from CHUNKSTREAM_<FLAG>. */
const env = (help: string, arg: string, more: Partial<FlagDoc> = {}): FlagDoc => d('string', help, { arg, env: true, ...more });

export const COMMANDS: Record<string, CommandDef> = {
  serve: {
    usage: 'serve [options]',
    summary: 'run the HTTP + WebSocket server',
    about:
      'Serves the store over HTTP (/v1/files…) and WebSocket (/v1/ws) until SIGINT/SIGTERM, then\n' +
      'closes cleanly: transfers in flight may finish for up to --drain-timeout, nothing committed is lost.\n' +
      'Each flag also from CHUNKSTREAM_<FLAG> (CHUNKSTREAM_PORT, CHUNKSTREAM_TOKEN, …); flags win.',
    localOnly: true,
    shared: [...LOCAL_FLAGS, 'chunk-size', 'upload-concurrency', 'download-concurrency'],
    own: {
      host: env('listen address (default 127.0.0.1)', 'HOST'),
      port: env('listen port, 0 = any free port (default 8080)', 'PORT'),
      token: env('accepted bearer token', 'TOKEN', { multiple: true }),
      'tokens-file': env('accepted tokens, one per line (# comments)', 'FILE'),
      insecure: d('boolean', 'allow a non-loopback --host without tokens', { env: true }),
      'max-transfer-bytes': env(
        'memory budget of all transfers in flight, e.g. 2GiB (default 1GiB); beyond it new transfers get 503 / busy',
        'SIZE',
      ),
      'cache-size': env(
        "verified chunks kept in memory for every reader, e.g. 1GiB, 0 = none (default: 1/16 of the machine's memory, at most 512MiB); held beside the budget",
        'SIZE',
      ),
      'max-client-share': env(
        'share of that budget one client (a token, else an address) may hold, e.g. 25% or 0.5 (default 25%); beyond it its new transfers get busy',
        'SHARE',
      ),
      'trusted-proxy': env('a proxy in front (its IP address): its X-Forwarded-For names the client, for --max-client-share', 'ADDR', {
        multiple: true,
      }),
      'allow-host': env('also answer requests for this Host (a loopback server answers only loopback names)', 'HOST', { multiple: true }),
      'allow-origin': env('also accept WebSocket upgrades and requests from this browser Origin', 'ORIGIN', { multiple: true }),
      'cors-origin': env('answer CORS requests (and preflights) from this Origin', 'ORIGIN', { multiple: true }),
      'public-url': env("the server's URL as clients see it (behind a proxy): signed links and same-origin checks", 'URL'),
      'link-secret': env('HMAC secret for signed links, 32+ characters (default: generated, kept in the store)', 'SECRET'),
      'link-secret-file': env('read the link secret from the first line of FILE', 'FILE'),
      'max-file-size': env('largest file an upload may store, e.g. 10GiB (default: no limit); beyond it 413 too_large', 'SIZE'),
      'upload-ttl': env('unfinished uploads expire this long after they were started or last resumed, 1s..365d (default 24h)', 'DURATION'),
      'max-connections': env('connections served at once (HTTP and WebSocket); more get 503 busy (default: no limit)', 'N'),
      'max-ws-streams': env('streams one WebSocket connection may have open at once, 1..65536 (default 256)', 'N'),
      'body-idle-timeout': env('an upload whose client sends nothing this long fails with 408 (default 2m)', 'DURATION'),
      'send-timeout': env('a download whose client takes nothing this long is ended, releasing what it holds (default 60s)', 'DURATION'),
      'gc-every': env('run gc this often, e.g. 1h (default: off); one run at a time per store (a lease in the store)', 'DURATION'),
      'gc-grace': env('grace period of scheduled gc: only chunks older than this go (default 1h)', 'DURATION'),
      'drain-timeout': env('on SIGTERM/SIGINT, how long transfers in flight may finish, 0..1h (default 30s)', 'DURATION'),
      'metrics-port': env('serve /metrics on this port, without a token (default: on the API port, behind auth)', 'PORT'),
      'metrics-host': env('listen address of --metrics-port (default: --host)', 'HOST'),
      'metrics-public': d('boolean', '/metrics on the API port without a token', { env: true }),
      'log-level': env('fatal, error, warn, info (default), debug, trace or silent', 'LEVEL'),
      'log-format': env('json (default: one object per line) or pretty', 'FORMAT'),
      'log-file': env('append log lines to FILE (default: stderr)', 'FILE'),
    },
  },
  put: {
    usage: 'put <file|-|dir>... [options]',
    summary: 'store files (- reads stdin, -r DIR a tree); prints their ids',
    about:
      'Stores files and prints the new ids (one file: the id; several: "ID  NAME" lines).\n' +
      'An interrupted put (Ctrl-C, kill, lost connection) resumes when you run the same command\n' +
      'again: only what the store lacks is sent, and files an earlier run stored are reported, not\n' +
      'sent again (same path, size, mtime and name; kept in ~/.local/state/chunkstream, or\n' +
      'CHUNKSTREAM_STATE_DIR).',
    mode: 'write',
    shared: [...LOCAL_FLAGS, 'chunk-size', 'upload-concurrency'],
    own: {
      name: d('string', 'name to record for one file (default: its base name, or "stdin")', { arg: 'NAME' }),
      recursive: d('boolean', 'store the files under each DIR, named by their path in it ("a/b.txt")', { short: 'r' }),
      json: d('boolean', 'print one JSON object per file (id, name, size, sha256, resumedFrom, sent, …)'),
      quiet: d('boolean', 'print nothing on success', { short: 'q' }),
      fresh: d('boolean', 'ignore earlier runs: store every file anew'),
    },
  },
  get: {
    usage: 'get <id>... [-o FILE|DIR/|-] [-O] [--range A-B] [--continue] [options]',
    summary: 'write files to FILE, DIR/ or stdout (or --range A-B of one)',
    about:
      'Writes a file to stdout, or to FILE through a partial file renamed once complete and\n' +
      'verified. A device, FIFO or symlink target is written in place, never replaced. -O (or\n' +
      '-o DIR/) saves each file under its stored name, folders included. Binary data is not written\n' +
      'to a terminal unless -o - asks for it.',
    mode: 'read',
    shared: [...LOCAL_FLAGS, 'download-concurrency'],
    own: {
      output: d('string', 'where to write: a file, a directory (DIR/) or - for stdout (default)', { arg: 'FILE', short: 'o' }),
      'remote-name': d('boolean', 'save each file in the current directory under its stored name', { short: 'O' }),
      range: d('string', 'bytes A to B inclusive, from A to the end, or the last N', { arg: 'A-B|A-|-N' }),
      continue: d('boolean', 'resume an interrupted download to FILE (still verifies the whole file)', { short: 'C' }),
    },
  },
  ls: {
    usage: 'ls [PATTERN] [--long] [--sort created|name|size] [--reverse] [--json] [options]',
    summary: 'list files (a name prefix or glob filters)',
    about:
      'Lists files: id, size, created, name. PATTERN is a name prefix ("photos/"), or a glob with\n' +
      '*, ? or [...] ("*.jpg"; * stays within a folder, ** does not). Quote it for the shell.',
    mode: 'read',
    shared: [...LOCAL_FLAGS],
    own: {
      long: d('boolean', 'also exact size, SHA-256 prefix and chunks', { short: 'l' }),
      sort: d('string', 'order: created (default), name or size', { arg: 'KEY' }),
      reverse: d('boolean', 'reverse the order'),
      json,
    },
  },
  stat: {
    usage: 'stat <id> [options]',
    summary: "show one file's info (JSON)",
    about: "Prints one file's info as JSON.",
    mode: 'read',
    shared: [...LOCAL_FLAGS],
  },
  rm: {
    usage: 'rm <id>... [options]',
    summary: 'remove files (their chunks go at a gc after the grace period)',
    about: 'Removes files. Their chunks are reclaimed by gc once older than its grace period (1 hour by default).',
    mode: 'read',
    shared: [...LOCAL_FLAGS],
  },
  gc: {
    usage: 'gc [--grace DURATION] [--dry-run] [options]',
    summary: 'delete chunks nothing references, expired uploads, old temp files',
    about:
      'Deletes chunks that no file or unfinished upload references and that are older than the\n' +
      'grace period, expired upload sessions, and temp files of crashed writes; prints a JSON\n' +
      "report with notes on what it kept and why. Right after rm, the removed file's chunks are\n" +
      'younger than the grace period and stay: that protects uploads in other processes.',
    mode: 'read',
    shared: [...LOCAL_FLAGS],
    own: {
      grace: d('string', "only chunks older than this: 0, 90s, 15m, 1h (default: the store's, 1h)", { arg: 'DURATION' }),
      'grace-ms': d('string', 'the same in milliseconds (older scripts)', { arg: 'MS' }),
      'dry-run': d('boolean', 'report without deleting'),
    },
  },
  verify: {
    usage: 'verify [<id>] [--repair] [options]',
    summary: 're-read and check every chunk',
    about:
      'Re-reads and checks every chunk of one file or all files; prints a JSON report, exit 1 on problems.\n' +
      'A chunk that fails is moved aside (quarantine/): uploading the same bytes again stores it again\n' +
      'and heals every file that names it. --repair re-checks the files that named a damaged chunk and\n' +
      'reports each "whole" or "damaged" (exit 1 while any is damaged).',
    mode: 'read',
    shared: [...LOCAL_FLAGS, 'download-concurrency'],
    own: { repair: d('boolean', 're-check the files that named a damaged chunk: whole again or still damaged') },
  },
  link: {
    usage: 'link <id> [--expires 1h] --server URL [--token TOKEN]',
    summary: 'print a signed URL that downloads a file without a token',
    about:
      'Asks the server for a signed link (POST /v1/files/ID/links) and prints its URL. Whoever has the\n' +
      'URL may download that file (GET/HEAD, ranges) without a token until it expires.',
    mode: 'read',
    shared: [],
    own: { expires: d('string', 'how long the link works: 90s, 15m, 1h (default) … 7d', { arg: 'DURATION' }) },
  },
  uploads: {
    usage: 'uploads [abort <upload-id>...] [--json] [options]',
    summary: 'list unfinished uploads, or abort them',
    about:
      'Lists unfinished uploads: id, bytes stored, age, time since their last progress, name.\n' +
      '"uploads abort ID..." drops them (their chunks go at a later gc). Aborting an upload that\n' +
      'is still sending does not stop its sender: stop that first.',
    mode: 'read',
    shared: [...LOCAL_FLAGS],
    own: { json },
  },
};

export { FLAGS };
