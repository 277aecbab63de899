import { readFile } from 'node:fs/promises';
import { InvalidOptionError } from '../errors.js';
import { resolveBudgetLimit } from '../gateway/budget.js';
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
