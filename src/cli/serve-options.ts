import { readFile } from 'node:fs/promises';
import { InvalidOptionError } from '../errors.js';
import { resolveBudgetLimit } from '../engine/budget.js';
import { resolveServerOptions, type ServerOptions } from '../gateway/server-options.js';
import { WS_DEFAULTS } from '../gateway/ws/gateway.js';
import { DEFAULTS } from '../options.js';
import { bool, str, UsageError, type Parsed } from './args.js';
import { countFlag, localLocation, sizeFlag } from './location.js';
import { parseDuration } from './units.js';

/** serve drains for this long on SIGTERM unless --drain-timeout says otherwise (the API's default is 0). */
const SERVE_DRAIN_TIMEOUT_MS = 30_000;
import { makeStoreDir } from './store-check.js';

/** One token per line; blank lines and `#` comments are skipped. */
async function readTokens(p: Parsed): Promise<string[]> {
  const file = str(p, 'tokens-file');
  const given = (p.values.token as string[] | undefined) ?? [];
  if (!file) return given;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidOptionError(p.origin.get('tokens-file') ?? '--tokens-file', `cannot read ${file}: ${(err as Error).message}`);
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  return [...given, ...lines.filter((l) => l !== '' && !l.startsWith('#'))];
}

/** A repeatable flag; each value (and its CHUNKSTREAM_* variable) may also list several, comma-separated. */
function list(p: Parsed, flag: string): string[] {
  const given = (p.values[flag] as string[] | undefined) ?? [];
  return given
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** --link-secret, or the first line of --link-secret-file; not both. */
async function readLinkSecret(p: Parsed): Promise<string | undefined> {
  const given = str(p, 'link-secret');
  const file = str(p, 'link-secret-file');
  const fileFlag = p.origin.get('link-secret-file') ?? '--link-secret-file';
  if (file === undefined) return given;
  if (given !== undefined) throw new InvalidOptionError(fileFlag, `give --link-secret or --link-secret-file, not both`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidOptionError(fileFlag, `cannot read ${file}: ${(err as Error).message}`);
  }
  const secret = text.split(/\r?\n/)[0]!.trim();
  if (secret.length < 32)
    throw new InvalidOptionError(fileFlag, `${file}: the secret must be at least 32 characters (e.g. openssl rand -hex 32)`);
  return secret;
}

/** Limits, gc, drain, metrics and log flags; their ranges are checked by resolveServerOptions (zod). */
function opsOptions(p: Parsed) {
  const duration = (flag: string) => {
    const v = str(p, flag);
    return v === undefined ? undefined : parseDuration(v, p.origin.get(flag) ?? `--${flag}`);
  };
  return {
    maxFileSize: sizeFlag(p, 'max-file-size'),
    uploadTtlMs: duration('upload-ttl'),
    maxConnections: countFlag(p, 'max-connections'),
    maxWsStreams: countFlag(p, 'max-ws-streams'),
    bodyIdleTimeoutMs: duration('body-idle-timeout'),
    sendTimeoutMs: duration('send-timeout'),
    gcEveryMs: duration('gc-every'),
    gcGraceMs: duration('gc-grace'),
    drainTimeoutMs: duration('drain-timeout') ?? SERVE_DRAIN_TIMEOUT_MS,
    metricsPort: countFlag(p, 'metrics-port', [0, 65535]),
    metricsHost: str(p, 'metrics-host'),
    metricsPublic: bool(p, 'metrics-public'),
    logLevel: (str(p, 'log-level') ?? 'info') as ServerOptions['logLevel'],
    logFormat: str(p, 'log-format') as ServerOptions['logFormat'],
    logFile: str(p, 'log-file'),
  };
}

/** `25%` or `0.25` → 0.25; the range (0, 1] is the server options' to check. */
function shareFlag(p: Parsed, flag: string): number | undefined {
  const v = str(p, flag);
  if (v === undefined) return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(v);
  if (!m) throw new UsageError(`${p.origin.get(flag) ?? `--${flag}`}: ${JSON.stringify(v)} is not a share (write 25% or 0.25)`);
  return m[2] ? Number(m[1]) / 100 : Number(m[1]);
}

/** `serve` flags → ServerOptions, validated here so a bad value fails before the server loads. */
export async function serveOptions(p: Parsed): Promise<ServerOptions> {
  const loc = localLocation(p);
  const options = {
    host: str(p, 'host'),
    port: countFlag(p, 'port', [0, 65535]),
    dir: loc.dir,
    storeUrl: loc.store,
    s3Endpoint: loc.s3Endpoint,
    s3Region: loc.s3Region,
    s3ForcePathStyle: loc.s3ForcePathStyle,
    chunkSize: loc.chunkSize,
    uploadConcurrency: loc.uploadConcurrency,
    downloadConcurrency: loc.downloadConcurrency,
    tokens: await readTokens(p),
    insecure: bool(p, 'insecure'),
    maxTransferBytes: sizeFlag(p, 'max-transfer-bytes'),
    cacheBytes: sizeFlag(p, 'cache-size'),
    maxClientShare: shareFlag(p, 'max-client-share'),
    trustedProxies: list(p, 'trusted-proxy'),
    allowHosts: list(p, 'allow-host'),
    allowOrigins: list(p, 'allow-origin'),
    corsOrigins: list(p, 'cors-origin'),
    publicUrl: str(p, 'public-url'),
    linkSecret: await readLinkSecret(p),
    ...opsOptions(p),
  };
  const o = resolveServerOptions(options);
  // The budget must fit one transfer at these settings: say so before the server loads.
  resolveBudgetLimit(o.maxTransferBytes, {
    chunkSize: o.chunkSize ?? DEFAULTS.chunkSize,
    uploadConcurrency: o.uploadConcurrency ?? DEFAULTS.uploadConcurrency,
    downloadConcurrency: o.downloadConcurrency ?? DEFAULTS.downloadConcurrency,
    window: WS_DEFAULTS.window,
  });
  await makeStoreDir(loc, p.origin);
  return options;
}
