import { z } from 'zod';
import type { Store } from '../engine/store.js';
import { InvalidOptionError } from '../errors.js';
import { parseOptions } from '../options.js';

// Server options apart from the server itself: the CLI validates them before loading it.
export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  dir: './data',
  tokens: [] as string[],
  insecure: false,
  headersTimeoutMs: 60_000,
  bodyIdleTimeoutMs: 120_000,
  web: true,
} as const;

export const serverOptionsSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    dir: z.string().min(1),
    /** `s3://BUCKET/PREFIX` or `file://PATH`; overrides dir. */
    storeUrl: z.string().min(1).optional(),
    s3Endpoint: z.url().optional(),
    s3Region: z.string().min(1).optional(),
    s3ForcePathStyle: z.boolean().optional(),
    chunkSize: z.number().int().optional(),
    uploadConcurrency: z.number().int().optional(),
    downloadConcurrency: z.number().int().optional(),
    tokens: z.array(z.string().min(1, 'tokens must not be empty').regex(/^\S+$/, 'tokens must not contain whitespace')),
    /** Allow a non-loopback host without tokens. */
    insecure: z.boolean(),
    /** A request's headers must arrive within this (slowloris guard). */
    headersTimeoutMs: z.number().int().min(1).max(3_600_000),
    /** An upload whose client sends nothing for this long fails with 408 `timeout`. */
    bodyIdleTimeoutMs: z.number().int().min(1).max(3_600_000),
    /**
     * Server-wide memory budget of all transfers (HTTP and WebSocket): each reserves its bound
     * before it starts; one that does not fit is refused with `busy` (budget.ts). Default 1 GiB
     * (raised to fit one transfer); a smaller value must still fit one.
     */
    maxTransferBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    /** Serve the web page at / (and the browser SDK at /client.js). */
    web: z.boolean(),
  })
  .strict();

export type ServerOptions = Partial<z.input<typeof serverOptionsSchema>> & {
  /** Serve this already-open store (the caller keeps owning it: close() leaves it open). */
  store?: Store;
};

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Resolves options (defaults, then one zod validation naming the bad option). */
export function resolveServerOptions(options: Omit<ServerOptions, 'store'>) {
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  const o = parseOptions(serverOptionsSchema, { ...SERVER_DEFAULTS, ...defined });
  if (!isLoopback(o.host) && o.tokens.length === 0 && !o.insecure) {
    throw new InvalidOptionError(
      'host',
      `refusing to listen on non-loopback host ${o.host} without tokens (configure a token, or set insecure / --insecure to allow it)`,
    );
  }
  return o;
}
