const WHERE = `Where the store is (each flag also from CHUNKSTREAM_<FLAG>, e.g. CHUNKSTREAM_DIR):
  --dir DIR                  local store directory (default ./data)
  --store URL                file://PATH or s3://BUCKET/PREFIX instead of --dir
  --s3-endpoint URL          S3-compatible endpoint (with --store s3://…)
  --s3-region REGION
  --s3-force-path-style      path-style bucket URLs (MinIO, s3rver)
  --chunk-size SIZE          bytes per chunk for new uploads, e.g. 4MiB (64KiB..64MiB)
  --upload-concurrency N     chunks stored in parallel (1..64)
  --download-concurrency N   chunks read ahead in parallel (1..64)
`;

const REMOTE = `Or through a running server's HTTP API:
  --server URL               e.g. http://127.0.0.1:8080 (CHUNKSTREAM_SERVER)
  --token TOKEN              bearer token (CHUNKSTREAM_TOKEN)
`;

const client = (usage: string, what: string, extra = '') =>
  `Usage: chunkstream ${usage}\n\n${what}\n\n${extra ? `${extra}\n` : ''}${WHERE}\n${REMOTE}  -h, --help                 this help\n`;

export const USAGE = `Usage: chunkstream <command> [options]

Commands:
  serve                      run the HTTP + WebSocket server
  put <file|-> [--name N]    store a file (- reads stdin); prints its id
  get <id> [-o FILE|-]       write a file (or --range A-B of it) to FILE or stdout
  ls [--json]                list files
  stat <id>                  show one file's info (JSON)
  rm <id>                    remove a file (its chunks go at the next gc)
  gc                         delete chunks no file references
  verify [<id>]              re-read and check every chunk
  link <id> [--expires 1h]   print a signed download link (needs --server)

Run "chunkstream <command> --help" for a command's options.
Errors print one line "chunkstream: <code>: <message>"; exit code 2 for bad usage, 1 otherwise.
`;

export const HELP: Record<string, string> = {
  serve: `Usage: chunkstream serve [options]

Serves the store over HTTP (/v1/files…) and WebSocket (/v1/ws) until SIGINT/SIGTERM, then
closes cleanly: transfers in flight are aborted, nothing committed is lost.
Each flag also from CHUNKSTREAM_<FLAG> (CHUNKSTREAM_PORT, CHUNKSTREAM_TOKEN, …); flags win.

  --host HOST                listen address (default 127.0.0.1)
  --port PORT                listen port, 0 = any free port (default 8080)
  --token TOKEN              accepted bearer token (repeatable)
  --tokens-file FILE         accepted tokens, one per line (# comments)
  --insecure                 allow a non-loopback --host without tokens
  --max-transfer-bytes SIZE  memory budget of all transfers in flight, e.g. 2GiB (default
                             1GiB); beyond it new transfers get 503 / error code busy
  --allow-host NAME          also answer for this Host name (repeatable; .example.com for
                             subdomains, * for any). On a loopback --host only loopback
                             names are answered by default (DNS rebinding guard)
  --allow-origin ORIGIN      web pages of this origin may use the API and the WebSocket
                             (repeatable; e.g. https://app.example). Same-origin always may
  --cors-origin ORIGIN       send CORS headers to this origin, answer its preflights
                             (repeatable, * for any); also allows it like --allow-origin
  --public-url URL           the URL clients reach the server by (behind a proxy): base of
                             signed links; its host and origin count as the server's own
  --link-secret SECRET       HMAC key of signed links (32+ characters); default: generated
  --link-secret-file FILE    once and kept in the store (config/link-secret.json)

${WHERE}  -h, --help                 this help
`,
  link: `Usage: chunkstream link <id> [--expires DURATION] --server URL [--token TOKEN]

Prints a signed link to one file: anyone with the URL may download it (GET/HEAD, ranges
included) without a token until it expires. The server signs it with its link secret.

  --expires DURATION         how long it works: 90s, 15m, 1h, 7d (default 1h, at most 7d)
  --server URL               e.g. http://127.0.0.1:8080 (CHUNKSTREAM_SERVER)
  --token TOKEN              bearer token (CHUNKSTREAM_TOKEN)
  -h, --help                 this help
`,
  put: client(
    'put <file|-> [--name NAME] [options]',
    'Stores a file (- reads stdin) and prints the new file id.',
    '  --name NAME                file name to record (default: the file\'s base name, or "stdin")\n',
  ),
  get: client(
    'get <id> [-o FILE|-] [--range A-B] [options]',
    'Writes a file to FILE (via a temp file, renamed when complete and checked) or stdout.',
    '  -o, --output FILE|-        where to write (default - = stdout)\n  --range A-B|A-|-N          bytes A to B inclusive, from A to the end, or the last N\n',
  ),
  ls: client(
    'ls [--json] [options]',
    'Lists files: id, size, created, name (or a JSON array with --json).',
    '  --json                     print JSON\n',
  ),
  stat: client('stat <id> [options]', "Prints one file's info as JSON."),
  rm: client('rm <id> [options]', 'Removes a file. Its chunks are reclaimed by the next gc.'),
  gc: client(
    'gc [--grace-ms MS] [--dry-run] [options]',
    'Deletes chunks that no file or unfinished upload references; prints a JSON report.',
    "  --grace-ms MS              only chunks older than this (default: the store's, 1 hour)\n  --dry-run                  report without deleting\n",
  ),
  verify: client(
    'verify [<id>] [options]',
    'Re-reads and checks every chunk of one file or all files; prints a JSON report, exit 1 on problems.',
  ),
};
