import { readFile } from 'node:fs/promises';
import { InvalidOptionError } from '../errors.js';
import { resolveBudgetLimit } from '../engine/admission.js';
import { resolveServerOptions, type ServerOptions } from '../gateway/server-options.js';
import { WS_DEFAULTS } from '../gateway/ws-gateway.js';
import { DEFAULTS } from '../options.js';
import { bool, str, type Parsed } from './args.js';
import { countFlag, localLocation, sizeFlag } from './location.js';
import { checkServeDir } from './store-check.js';

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
    allowHosts: list(p, 'allow-host'),
    allowOrigins: list(p, 'allow-origin'),
    corsOrigins: list(p, 'cors-origin'),
    publicUrl: str(p, 'public-url'),
    linkSecret: await readLinkSecret(p),
  };
  const o = resolveServerOptions(options);
  // The budget must fit one transfer at these settings: say so before the server loads.
  resolveBudgetLimit(o.maxTransferBytes, {
    chunkSize: o.chunkSize ?? DEFAULTS.chunkSize,
    uploadConcurrency: o.uploadConcurrency ?? DEFAULTS.uploadConcurrency,
    downloadConcurrency: o.downloadConcurrency ?? DEFAULTS.downloadConcurrency,
    window: WS_DEFAULTS.window,
  });
  await checkServeDir(loc, p.origin);
  return options;
}
