import { z } from 'zod';
import { DEFAULT_GC_LEASE_MS } from '../engine/gc-lease.js';
import type { Store } from '../engine/store.js';
import type { Logger } from './ops/log.js';
import type { ServerMetrics } from './ops/metrics.js';
import { InvalidOptionError } from '../errors.js';
import { resolveOptions } from '../internal/options.js';
import { isLoopback } from './guard.js';
import { DEFAULT_MAX_CLIENT_SHARE } from '../engine/budget.js';
import { HTTP_DEFAULTS } from './handler-options.js';
import { DEFAULT_DATA_DIR } from '../storage/open.js';
import { WS_DEFAULTS } from './ws/gateway.js';

// Server options apart from the server itself: the CLI validates them before loading it.
export const SERVER_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  dir: DEFAULT_DATA_DIR,
  tokens: [] as string[],
  insecure: false,
  headersTimeoutMs: 60_000,
  bodyIdleTimeoutMs: HTTP_DEFAULTS.bodyIdleTimeoutMs,
  sendTimeoutMs: HTTP_DEFAULTS.sendTimeoutMs,
  maxClientShare: DEFAULT_MAX_CLIENT_SHARE,
  trustedProxies: [] as string[],
  allowHosts: [] as string[],
  allowOrigins: [] as string[],
  corsOrigins: [] as string[],
  web: true,
  maxWsStreams: WS_DEFAULTS.maxStreams,
  gcLeaseMs: DEFAULT_GC_LEASE_MS,
  drainTimeoutMs: 0,
  metricsPublic: false,
  logLevel: 'silent',
  logFormat: 'json',
} as const;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Milliseconds within bounds, with messages in the units people write (`--upload-ttl 1s..365d`). */
const ms = (min: number, max: number, minText: string, maxText: string) =>
  z.number().int().min(min, `must be at least ${minText}`).max(max, `must be at most ${maxText}`);

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
    /** Bytes of verified chunks kept in memory (the store's cacheBytes; default from the machine's memory). */
    cacheBytes: z.number().int().min(0).optional(),
    tokens: z.array(z.string().min(1, 'tokens must not be empty').regex(/^\S+$/, 'tokens must not contain whitespace')),
    /** Allow a non-loopback host without tokens. */
    insecure: z.boolean(),
    /** A request's headers must arrive within this (slowloris guard). */
    headersTimeoutMs: z.number().int().min(1).max(3_600_000),
    /** An upload whose client sends nothing for this long fails with 408 `timeout`. */
    bodyIdleTimeoutMs: ms(1, HOUR, '1ms', '1h'),
    /**
     * Server-wide memory budget of all transfers (HTTP and WebSocket): each reserves its bound
     * before it starts; one that does not fit is refused with `busy` (budget.ts). Default 1 GiB
     * (raised to fit one transfer); a smaller value must still fit one.
     */
    maxTransferBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    /** Share of the budget one client (a token, else an address) may hold at once; 1: no limit per client. */
    maxClientShare: z.number().gt(0, 'must be more than 0').max(1, 'must be at most 1 (the whole budget)'),
    /** Peers whose X-Forwarded-For names the client (for its budget share): the proxies in front, by IP address. */
    trustedProxies: z.array(z.union([z.ipv4(), z.ipv6()], 'must be an IP address (the proxy as the server sees it)')),
    /** A download whose client takes no byte for this long is ended and releases what it holds (nginx's send_timeout). */
    sendTimeoutMs: ms(1, HOUR, '1ms', '1h'),
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
    /** Largest file an upload may store (413 too_large beyond it); a store the server opens only. */
    maxFileSize: z.number().int().min(1, 'must be at least 1 byte').max(Number.MAX_SAFE_INTEGER).optional(),
    /** Unfinished uploads expire this long after their last progress; a store the server opens only. */
    uploadTtlMs: ms(1000, 365 * DAY, '1s', '365d').optional(),
    /** Connections served at once (HTTP and WebSocket); the ones beyond get 503 busy and are closed. */
    maxConnections: z.number().int().min(1, 'must be at least 1').max(1_000_000, 'must be at most 1000000').optional(),
    /** Streams one WebSocket connection may have open at once. */
    maxWsStreams: z.number().int().min(1, 'must be at least 1').max(65_536, 'must be at most 65536'),
    /** Run gc this often (off without it), under the store's gc lease: one run at a time across gateways. */
    gcEveryMs: ms(10, 365 * DAY, '10ms', '365d').optional(),
    /** Grace period of scheduled gc runs (default: the store's, 1 hour). */
    gcGraceMs: ms(0, 365 * DAY, '0', '365d').optional(),
    /** How long a gc lease lasts unless renewed (a crashed holder blocks gc no longer than this). */
    gcLeaseMs: ms(100, DAY, '100ms', '1d'),
    /** On close: how long transfers in flight may finish (new ones are refused, health checks answer 503). */
    drainTimeoutMs: ms(0, HOUR, '0', '1h'),
    /** Serve /metrics on this port (no auth there) instead of the API's port. */
    metricsPort: z.number().int().min(0).max(65535).optional(),
    /** Address of the metrics port (default: host). */
    metricsHost: z.string().min(1).optional(),
    /** /metrics on the API's port without a token. */
    metricsPublic: z.boolean(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    }),
    logFormat: z.enum(['json', 'pretty'], { error: 'must be json or pretty' }),
    /** Append log lines to this file instead of stderr. */
    logFile: z.string().min(1).optional(),
  })
  .strict();

export type ServerOptions = Partial<z.input<typeof serverOptionsSchema>> & {
  /** Serve this already-open store (the caller keeps owning it: close() leaves it open). */
  store?: Store;
  /** Log through this pino logger (wins over logLevel, logFormat, logFile). */
  logger?: Logger;
  /** Report into these metrics (createServerMetrics(): e.g. to instrument the backend of a store you pass). */
  metrics?: ServerMetrics;
};

/** Resolves options (defaults, then one zod validation naming the bad option). */
export function resolveServerOptions(options: Omit<ServerOptions, 'store' | 'logger' | 'metrics'>) {
  const o = resolveOptions(serverOptionsSchema, SERVER_DEFAULTS, options);
  if (!isLoopback(o.host) && o.tokens.length === 0 && !o.insecure) {
    throw new InvalidOptionError(
      'host',
      `refusing to listen on non-loopback host ${o.host} without tokens (configure a token, or set insecure / --insecure to allow it)`,
    );
  }
  return o;
}
