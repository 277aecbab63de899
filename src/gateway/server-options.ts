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
  allowHosts: [] as string[],
  allowOrigins: [] as string[],
  corsOrigins: [] as string[],
  web: true,
} as const;

/** A host name for --allow-host: `files.example.com`, `.example.com` (and subdomains), an IP, or `*`. */
const hostSchema = z
  .string()
  .regex(
    /^(\*|\.?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])$/,
    'must be a host name without a port (files.example.com, .example.com for it and its subdomains, an IP address, or *)',
  );

/** A serialized origin (`https://app.example`, `http://localhost:5173`) or `*`. */
const originSchema = z.string().refine((s) => {
  if (s === '*') return true;
  try {
    const u = new URL(s);
    return (
      ['http:', 'https:'].includes(u.protocol) &&
      u.pathname === '/' &&
      !u.search &&
      !u.hash &&
      !u.username &&
      !/\/./.test(s.slice(u.protocol.length + 2))
    );
  } catch {
    return false;
  }
}, 'must be an origin: scheme://host[:port] with no path (https://app.example, http://localhost:5173), or *');

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
    /**
     * More Host names to answer for. On a loopback host only loopback names are answered by
     * default (DNS rebinding guard); elsewhere any, unless this narrows it.
     */
    allowHosts: z.array(hostSchema),
    /** Origins whose web pages may use the API and the WebSocket (besides same-origin ones). */
    allowOrigins: z.array(originSchema),
    /** Origins that get CORS headers (and are allowed, as with allowOrigins). */
    corsOrigins: z.array(originSchema),
    /** The URL clients use (behind a proxy): base of signed links, and its origin and host are the server's own. */
    publicUrl: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .refine((u) => !/[?#]/.test(u), 'must not have a query or fragment')
      .optional(),
    /** HMAC key of signed links (≥ 32 characters); default: generated and kept in the store. */
    linkSecret: z.string().min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)').optional(),
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
