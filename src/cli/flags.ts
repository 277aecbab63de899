import type { ParseArgsConfig } from 'node:util';

// No engine imports here: --help and usage errors must start fast.

export type Spec = NonNullable<ParseArgsConfig['options']>;

export interface FlagDoc {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** Placeholder in the help (`DIR`, `SIZE`). */
  arg?: string;
  help: string;
  /** Also read from CHUNKSTREAM_<FLAG> when not given. */
  env?: boolean;
}

const d = (type: FlagDoc['type'], help: string, more: Partial<FlagDoc> = {}): FlagDoc => ({ type, help, ...more });

/** Every flag, once: the help of each command is made of the ones it takes. */
export const FLAGS = {
  dir: d('string', 'local store directory (default ./data)', { arg: 'DIR', env: true }),
  store: d('string', 'file://PATH or s3://BUCKET/PREFIX instead of --dir', { arg: 'URL', env: true }),
  's3-endpoint': d('string', 'S3-compatible endpoint (with --store s3://…)', { arg: 'URL', env: true }),
  's3-region': d('string', 'S3 region (with --store s3://…)', { arg: 'REGION', env: true }),
  's3-force-path-style': d('boolean', 'path-style bucket URLs (MinIO, s3rver; default with --s3-endpoint)', { env: true }),
  'chunk-size': d('string', 'bytes per chunk of new uploads, 64KiB..64MiB (default 4MiB)', { arg: 'SIZE', env: true }),
  'upload-concurrency': d('string', 'chunks stored in parallel, 1..64 (default 4)', { arg: 'N', env: true }),
  'download-concurrency': d('string', 'chunks read ahead in parallel, 1..64 (default 4)', { arg: 'N', env: true }),
  server: d('string', "a running server's URL, e.g. http://127.0.0.1:8080", { arg: 'URL', env: true }),
  token: d('string', 'bearer token for --server', { arg: 'TOKEN', env: true }),
} satisfies Record<string, FlagDoc>;

/** Where the store is, when it is opened here. */
export const LOCAL_FLAGS = ['dir', 'store', 's3-endpoint', 's3-region', 's3-force-path-style'] as const;
/** Settings of the store opened here: with --server, the server's own apply. */
export const TUNING_FLAGS = ['chunk-size', 'upload-concurrency', 'download-concurrency'] as const;
export const S3_FLAGS = ['s3-endpoint', 's3-region', 's3-force-path-style'] as const;
export const REMOTE_FLAGS = ['server', 'token'] as const;

export interface CommandFlags {
  /** Location and tuning flags this command takes (from FLAGS). */
  shared: readonly (keyof typeof FLAGS)[];
  /** The command's own. */
  own?: Record<string, FlagDoc>;
  /** Only a local store (serve): no --server group. */
  localOnly?: boolean;
}

export function specOf(c: CommandFlags): Spec {
  const spec: Spec = {};
  for (const [name, f] of allFlags(c))
    spec[name] = { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  return spec;
}

export function allFlags(c: CommandFlags): [string, FlagDoc][] {
  const shared = c.shared.map((n) => [n, FLAGS[n]] as [string, FlagDoc]);
  const remote = c.localOnly ? [] : REMOTE_FLAGS.map((n) => [n, FLAGS[n]] as [string, FlagDoc]);
  return [...Object.entries(c.own ?? {}), ...shared, ...remote];
}

export const envFlags = (c: CommandFlags) => allFlags(c).flatMap(([n, f]) => (f.env ? [n] : []));

/** `  --chunk-size SIZE          bytes per chunk …` */
export function helpLine(name: string, f: FlagDoc): string {
  const left = `${f.short ? `-${f.short}, ` : ''}--${name}${f.arg ? ` ${f.arg}` : ''}${f.multiple ? ' (repeatable)' : ''}`;
  const pad = left.length >= 27 ? `\n${' '.repeat(29)}` : ' '.repeat(27 - left.length);
  return `  ${left}${pad}${f.help}\n`;
}
