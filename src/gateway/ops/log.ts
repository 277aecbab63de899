import { pino, type DestinationStream, type Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export type LogFormat = 'json' | 'pretty';
export type { Logger };

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** A file to append to (created if missing); default: stderr. */
  file?: string;
  /** Where lines go instead (tests: an in-memory stream). Wins over `file`. */
  destination?: DestinationStream;
}

/**
 * The server's logger: pino, one JSON object per line (`level` as its name, `time` as an ISO
 * date). `pretty` is for people at a terminal: the same lines as `time LEVEL message key=value…`,
 * formatted here (pino-pretty would add a dozen dependencies for a few lines of formatting).
 * Lines go to stderr by default: stdout carries the "listening on" line programs wait for.
 */
export function createLogger(o: LoggerOptions = {}): Logger {
  const format = o.format ?? 'json';
  const level = o.level ?? 'info';
  // Nothing is written at all: no stream to open (startServer's default in code).
  if (level === 'silent' && !o.destination) return pino({ level }, { write: () => undefined });
  const own = o.destination ? undefined : pino.destination({ dest: o.file ?? 2, sync: false, mkdir: o.file !== undefined, append: true });
  const base = o.destination ?? own!;
  const colors = o.destination === undefined && o.file === undefined && process.stderr.isTTY === true;
  const destination = format === 'pretty' ? prettyStream(base, colors) : base;
  const logger = pino(
    {
      level,
      base: undefined, // no pid/hostname on every line: the collector knows where it came from
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  if (own && o.file !== undefined) opened.set(logger, own);
  return logger;
}

const opened = new WeakMap<Logger, ReturnType<typeof pino.destination>>();

/** Writes out what is buffered, and closes the file a logger opened (`file`); other streams stay open. */
export async function closeLogger(logger: Logger): Promise<void> {
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  const file = opened.get(logger);
  if (!file) return;
  opened.delete(logger);
  await new Promise<void>((resolve) => {
    file.once('close', () => resolve());
    file.end();
  });
}

const LEVEL_COLORS: Record<string, string> = { fatal: '35', error: '31', warn: '33', info: '32', debug: '36', trace: '90' };

/** Fields an access line's message already says ("GET /v1/files 200", "ws download stream 3 ok"). */
const IN_MESSAGE = new Set(['kind', 'method', 'url', 'status', 'type', 'stream', 'outcome']);

/** `2025-01-02T03:04:05.678Z INFO  GET /v1/files 200 route=/v1/files ms=3.1 …`. */
export function prettyLine(line: string, colors = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${safe(line)}\n`;
  }
  const { time, level, msg, ...rest } = o;
  const label = safe(text(level).toUpperCase().padEnd(5));
  const lvl = colors && LEVEL_COLORS[text(level)] ? `\x1b[${LEVEL_COLORS[text(level)]}m${label}\x1b[0m` : label;
  const fields = Object.entries(rest)
    .filter(([k, v]) => v !== undefined && !IN_MESSAGE.has(k))
    .map(([k, v]) => `${safe(k)}=${safe(typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v))}`)
    .join(' ');
  return `${safe(text(time))} ${lvl} ${safe(text(msg))}${fields ? ` ${fields}` : ''}\n`;
}

/**
 * C0, DEL and C1 control characters as `\xHH`: request fields (X-Forwarded-For, the target)
 * reach these lines, and a terminal obeys what it is sent (ESC, CSI U+009B, OSC U+009D can move
 * the cursor, rewrite earlier lines, set the title). JSON.stringify escapes C0 only. A
 * backslash is doubled where it precedes `x`, so an escape cannot be forged. Line separators
 * (U+2028/2029) and bidi controls are escaped too: they reorder or split what is read.
 */
export function safe(s: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]|\\(?=x)/g, (c) => {
    if (c === '\\') return '\\\\';
    const n = c.charCodeAt(0);
    return n > 0xff ? `\\u${n.toString(16).padStart(4, '0')}` : `\\x${n.toString(16).padStart(2, '0')}`;
  });
}

/** A pino field as text: strings and numbers as they are, anything else as JSON. */
function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v);
}

function prettyStream(out: DestinationStream, colors: boolean): DestinationStream {
  // pino writes whole lines, one per call.
  const stream = { write: (line: string) => out.write(prettyLine(line.trimEnd(), colors)) } as DestinationStream & { flushSync?(): void };
  const flushable = out as DestinationStream & { flushSync?(): void };
  if (typeof flushable.flushSync === 'function') stream.flushSync = () => flushable.flushSync!();
  return stream;
}

/** Query parameters whose values are credentials: never written to a log line. */
const SECRET_PARAMS = /^(sig|signature|token|access_token|x-amz-signature|x-amz-credential)$/i;

/** The request target for a log line: secrets in the query replaced, long targets cut. */
export function redactTarget(target: string): string {
  const q = target.indexOf('?');
  let out = target;
  if (q >= 0) {
    const query = target
      .slice(q + 1)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        const name = eq < 0 ? pair : pair.slice(0, eq);
        let decoded = name;
        try {
          decoded = decodeURIComponent(name);
        } catch {
          // keep it as sent
        }
        return SECRET_PARAMS.test(decoded) ? `${name}=[redacted]` : pair;
      })
      .join('&');
    out = `${target.slice(0, q)}?${query}`;
  }
  return out.length > 1000 ? `${out.slice(0, 1000)}…` : out;
}
