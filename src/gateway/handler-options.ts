import type { ClientKeyer } from './client-key.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { TransferBudget } from '../engine/budget.js';
import type { GcOptions, GcReport } from '../engine/gc-types.js';
import type { TransferMeter } from '../engine/observer.js';
import type { Store } from '../engine/store.js';
import type { TokenChecker } from './auth.js';
import type { RequestGuard } from './guard.js';
import type { WebAssets } from './web.js';

export interface HttpHandlerOptions {
  store: Store;
  /** Bearer tokens; empty means no auth (the server refuses that on a non-loopback host). */
  tokens?: readonly string[];
  /** A checker shared with the WebSocket gateway (wins over `tokens`). */
  auth?: TokenChecker;
  /** An upload body silent for this long fails with 408 `timeout` (default 120 s). */
  bodyIdleTimeoutMs?: number;
  /** A download whose client takes nothing for this long is ended (default 60 s). */
  sendTimeoutMs?: number;
  /** Who a request is for the per-client budget share (default: token, else peer address). */
  clientKey?: ClientKeyer;
  /** The server-wide transfer budget (shared with the WebSocket gateway); default: its own, 1 GiB. */
  budget?: TransferBudget;
  /** Host / Origin / CORS policy (guard.ts), shared with the WebSocket gateway; none: no checks. */
  guard?: RequestGuard;
  /** HMAC key of signed links; default: generated once and kept in the store (link-secret.ts). */
  linkSecret?: () => Promise<Uint8Array>;
  /** Base of signed link URLs (`--public-url`); default `http://` + the request's Host. */
  publicUrl?: string;
  /** The server's own URL, for link URLs when a request has no Host header. */
  serverUrl?: () => string | undefined;
  /** The web page's static files (web.ts): served before auth, since the page itself asks for the token. */
  web?: WebAssets;
  /** /healthz (draining-aware), /readyz and /metrics (ops/probes.ts); without it /healthz just answers ok. */
  ops?: OpsRoutes;
  /** Protocols served under a path of their own (tus at /v1/tus/), mounted by the server. */
  mounts?: readonly HttpMount[];
  /** Runs POST /v1/gc (the server's gc runner, under the store's gc lease); default store.gc. */
  runGc?: (options: GcOptions) => Promise<GcReport>;
}

/** /healthz, /readyz and /metrics, as the HTTP handler answers them (ops/probes.ts makes them). */
export interface OpsRoutes {
  /** Liveness: 200 `{ ok: true }`, or 503 busy while the server drains. */
  health(res: ServerResponse): void;
  /** Readiness: the store answered (its marker read back) within 5 s, and the server is not draining. */
  ready(res: ServerResponse, signal: AbortSignal): Promise<void>;
  /** The Prometheus text, when /metrics is served on the API's port. */
  metrics?(res: ServerResponse): Promise<void>;
  /** /metrics needs no token. */
  readonly metricsPublic: boolean;
}

/**
 * A protocol with a dispatch of its own under a path prefix (tus at /v1/tus/). The HTTP base
 * answers its requests' guard, CORS and auth as for every route, then hands them over.
 */
export interface HttpMount {
  handles(path: string): boolean;
  /** Headers every answer under the mount carries, refusals included (tus clients read every answer by its Tus-Resumable). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The route label of a path under the mount (access log, metrics). */
  label?(path: string): string;
  /** Answers a request that passed auth; never rejects. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, signal: AbortSignal): Promise<void>;
}

/** The defaults of the HTTP endpoints, here only (the server's own options take them from here). */
export const HTTP_DEFAULTS = { bodyIdleTimeoutMs: 120_000, sendTimeoutMs: 60_000 } as const;

const fn = <T>(what: string) => z.custom<T>((f) => typeof f === 'function', `must be ${what}`).optional();

export const httpHandlerOptionsSchema = z
  .object({
    store: z.custom<Store>((s) => typeof (s as Store | null)?.upload === 'function', 'must be a Store'),
    tokens: z.array(z.string()).readonly().optional(),
    auth: z.custom<TokenChecker>((t) => typeof (t as TokenChecker | null)?.check === 'function', 'must be a TokenChecker').optional(),
    bodyIdleTimeoutMs: z.number().int().min(1).max(3_600_000),
    sendTimeoutMs: z.number().int().min(1).max(3_600_000),
    budget: z.custom<TransferBudget>((b) => b instanceof TransferBudget, 'must be a TransferBudget').optional(),
    guard: z
      .custom<RequestGuard>((g) => typeof (g as RequestGuard | null)?.checkOrigin === 'function', 'must be a RequestGuard')
      .optional(),
    linkSecret: fn<() => Promise<Uint8Array>>('a function returning the secret'),
    publicUrl: z.string().optional(),
    serverUrl: fn<() => string | undefined>('a function returning the URL'),
    web: z.custom<WebAssets>((w) => Array.isArray((w as WebAssets | null)?.routes), 'must be WebAssets').optional(),
    ops: z.custom<OpsRoutes>((r) => typeof (r as OpsRoutes | null)?.ready === 'function', 'must be OpsRoutes').optional(),
    mounts: z
      .array(z.custom<HttpMount>((m) => typeof (m as HttpMount | null)?.handles === 'function', 'must be an HttpMount'))
      .readonly()
      .optional(),
    runGc: fn<(options: GcOptions) => Promise<GcReport>>('a function'),
    clientKey: fn<ClientKeyer>('a function'),
  })
  .strict();

export type ResolvedHttpOptions = z.output<typeof httpHandlerOptionsSchema>;

/** What every route's handler is given: the handler's settings and the request it answers. */
export interface RequestContext {
  store: Store;
  budget: TransferBudget;
  bodyIdleTimeoutMs: number;
  sendTimeoutMs: number;
  /** The client's key for its share of the budget (client-key.ts). */
  client: string;
  url: URL;
  /** The checked id of a `:id` route (a file's, or an upload's under /v1/uploads/). */
  id?: string;
  /** The signed link the request came with (`/v1/files/:id` only): its remaining lifetime sets Cache-Control. */
  link?: { id: string; remainingS: number };
  req: IncomingMessage;
  res: ServerResponse;
  /** Aborted when the client goes away or the server shuts down. */
  signal: AbortSignal;
  /** The request's id (`X-Request-Id`), from the access log; none when the handler runs without it. */
  requestId?: string;
  /** The protocol label and byte count of the transfers the request starts (the access log line reads it). */
  meter?: TransferMeter;
}
