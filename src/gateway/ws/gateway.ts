import type http from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import type { Store } from '../../engine/store.js';
import type { ChunkstreamError } from '../../errors.js';
import { publicMessage } from '../public-error.js';
import { resolveOptions } from '../../internal/options.js';
import { CloseCode } from '../../protocol/errors.js';
import { FRAME_HEADER_BYTES } from '../../protocol/frames.js';
import { DEFAULT_WINDOW } from '../../protocol/messages.js';
import { bearerToken, type TokenChecker } from '../auth.js';
import { clientKey, type ClientKeyer } from '../client-key.js';
import { HTTP_DEFAULTS } from '../handler-options.js';
import { resolveBudgetLimit, TransferBudget } from '../../engine/budget.js';
import type { RequestGuard } from '../guard.js';
import { requestAuthority } from '../authority.js';
import { MAX_STREAMS, WsConnection } from './connection.js';
import { requestIdOf, type WsLog, type WsPeer } from '../ops/access-log.js';
import type { GatewayShared } from './types.js';

export interface WsGatewayOptions {
  store: Store;
  tokens: TokenChecker;
  /** URL path of the WebSocket endpoint (default '/v1/ws'). */
  path?: string;
  /** Largest frame (text or binary, header included) a client may send; larger ones close the socket with 1009. */
  maxFrameBytes?: number;
  /** Per download: chunks read ahead; per upload: credit of window × chunkSize bytes (default 4). */
  window?: number;
  /** The server-wide transfer budget, shared with the HTTP endpoints (wins over maxTransferBytes). */
  budget?: TransferBudget;
  /** Without `budget`: the size of this gateway's own budget (default 1 GiB, at least one transfer). */
  maxTransferBytes?: number;
  /** Host and Origin checks (cross-site WebSocket hijacking, DNS rebinding), shared with HTTP. */
  guard?: RequestGuard;
  /** Streams one connection may have open at once (default 256); one more is refused with too_many_streams. */
  maxStreams?: number;
  /** Who a connection is for the per-client budget share (default: token, else peer address). */
  clientKey?: ClientKeyer;
  /** A download stream whose client takes no chunk for this long fails with `timeout` (default 60 s). */
  sendTimeoutMs?: number;
  /** Access log: one line per stream and per closed connection. */
  log?: WsLog;
  /** Refuses an upgrade before anything else (a coded HTTP answer): the server draining, too many connections. */
  admit?: (req: http.IncomingMessage) => ChunkstreamError | undefined;
  /** Learns of every refused upgrade (its status, the error code if coded): the access log and metrics. */
  refused?: (req: http.IncomingMessage, status: number, code?: string) => void;
}

export interface WsGateway {
  /** Closes every connection (1001), cancelling its transfers, and stops taking upgrades. */
  close(): Promise<void>;
  readonly connections: number;
  /** Reservations of transfers in flight (`reserved`, `peak`, `limit`). */
  readonly budget: TransferBudget;
}

const optionsSchema = z
  .object({
    store: z.custom<Store>((s) => typeof s === 'object' && s !== null && typeof (s as Store).upload === 'function', 'must be a Store'),
    tokens: z.custom<TokenChecker>((t) => typeof (t as TokenChecker)?.check === 'function', 'must be a TokenChecker'),
    path: z.string().startsWith('/'),
    maxFrameBytes: z
      .number()
      .int()
      .min(FRAME_HEADER_BYTES + 1024)
      .max(256 * 1024 * 1024),
    window: z.number().int().min(1).max(64),
    budget: z.custom<TransferBudget>((b) => b instanceof TransferBudget, 'must be a TransferBudget').optional(),
    maxTransferBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
    guard: z.custom<RequestGuard>((g) => typeof (g as RequestGuard)?.checkOrigin === 'function', 'must be a RequestGuard').optional(),
    maxStreams: z.number().int().min(1).max(65_536),
    sendTimeoutMs: z.number().int().min(1).max(3_600_000),
    log: z.custom<WsLog>((l) => typeof (l as WsLog)?.stream === 'function', 'must be a WsLog').optional(),
    admit: z.custom<WsGatewayOptions['admit']>((f) => typeof f === 'function', 'must be a function').optional(),
    refused: z.custom<WsGatewayOptions['refused']>((f) => typeof f === 'function', 'must be a function').optional(),
    clientKey: z.custom<ClientKeyer>((f) => typeof f === 'function', 'must be a function').optional(),
  })
  .strict();

export const WS_DEFAULTS = {
  path: '/v1/ws',
  maxFrameBytes: 1024 * 1024,
  window: DEFAULT_WINDOW,
  maxStreams: MAX_STREAMS,
  sendTimeoutMs: HTTP_DEFAULTS.sendTimeoutMs,
} as const;
export const HEARTBEAT_MS = 30_000;

/**
 * Serves the WebSocket protocol (docs/protocol.md) on `server`'s `upgrade` event for one path.
 * Upgrades for other paths are left to other listeners, or refused with 404 if there are none.
 */
export function attachWsGateway(server: http.Server, options: WsGatewayOptions): WsGateway {
  const o = resolveOptions(optionsSchema, WS_DEFAULTS, options);
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: o.maxFrameBytes, clientTracking: false });
  const live = new Set<WsConnection>();
  const budget = o.budget ?? new TransferBudget(resolveBudgetLimit(o.maxTransferBytes, { ...o.store.options, window: o.window }));
  const shared: GatewayShared = {
    store: o.store,
    budget,
    tokens: o.tokens,
    maxFrameBytes: o.maxFrameBytes,
    window: o.window,
    uploads: new Map(),
    maxStreams: o.maxStreams,
    sendTimeoutMs: o.sendTimeoutMs,
    log: o.log,
  };
  const peers = new WeakMap<http.IncomingMessage, WsPeer>();
  // The 101 answer carries the connection's id, as every HTTP answer carries its request's.
  wss.on('headers', (headers, req) => {
    const peer = peers.get(req);
    if (peer) headers.push(`X-Request-Id: ${peer.id}`);
  });
  let closing = false;

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy()); // a reset during the handshake must not crash us
    // Every refusal is reported (the access log and metrics), as the HTTP handler's answers are.
    const no = (status: number, text: string, extra = '', code?: string) => {
      o.refused?.(req, status, code);
      refuse(socket, status, text, extra);
    };
    const noCoded = (err: ChunkstreamError, extra = '') => {
      o.refused?.(req, err.status, err.code);
      refuseCoded(socket, err, extra);
    };
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      path = ''; // a malformed target is no path of ours
    }
    if (path !== o.path) {
      if (server.listenerCount('upgrade') <= 1) no(404, 'Not Found');
      return;
    }
    if (closing) return no(503, 'Service Unavailable');
    const refusedNow = o.admit?.(req);
    if (refusedNow) return noCoded(refusedNow, 'Retry-After: 1\r\n');
    // A page on any site may open a WebSocket to 127.0.0.1 (browsers apply no CORS to it) and
    // would drive the whole API: refuse before any socket exists.
    // Protocol version 8 (pre-RFC 6455, which `ws` still accepts) names it Sec-WebSocket-Origin.
    // Without a guard (the gateway on its own) an upgrade still needs exactly one Host (RFC 6455).
    const refused = o.guard ? o.guard.checkRequest(req) : hostProblem(req);
    if (refused) return noCoded(refused);
    const header = req.headers.authorization;
    const token = bearerToken(header);
    // A header that is present must be valid; without one, the first message may authenticate.
    if (o.tokens.enabled && header !== undefined && (!token || !o.tokens.check(token))) {
      return no(401, 'Unauthorized', 'WWW-Authenticate: Bearer\r\n', 'unauthorized');
    }
    const authenticated = !o.tokens.enabled || token !== undefined;
    const peer: WsPeer = {
      id: requestIdOf(req.headers['x-request-id']),
      remote: req.socket.remoteAddress,
      client: (o.clientKey ?? clientKey)(req, token),
    };
    peers.set(req, peer);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (closing) return ws.close(CloseCode.GOING_AWAY, 'server shutting down');
      const opened = Date.now();
      const conn = new WsConnection(ws, shared, authenticated, peer);
      live.add(conn);
      ws.once('close', (code) => {
        live.delete(conn);
        o.log?.closed(peer, { code, streams: conn.opened, ms: Date.now() - opened });
      });
    });
  };
  server.on('upgrade', onUpgrade);
  // Streams of a peer that vanished without a FIN would wait for credit forever.
  const heartbeat = setInterval(() => live.forEach((c) => c.heartbeat()), HEARTBEAT_MS);
  heartbeat.unref();

  return {
    get connections() {
      return live.size;
    },
    budget,
    async close() {
      closing = true;
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      await Promise.all([...live].map((c) => c.shutdown()));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function hostProblem(req: http.IncomingMessage): ChunkstreamError | undefined {
  const a = requestAuthority(req);
  return 'code' in a ? a : undefined;
}

/** The HTTP API's `{ error: { code, message } }`, on the raw socket of a refused upgrade. */
function refuseCoded(socket: Duplex, err: ChunkstreamError, extra = ''): void {
  const body = JSON.stringify({ error: { code: err.code, message: publicMessage(err) } });
  const reason = STATUS_CODES[err.status] ?? 'Error';
  if (!socket.writable) return void socket.destroy();
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${err.status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Cache-Control: no-store\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

function refuse(socket: Duplex, status: number, text: string, extra = ''): void {
  if (!socket.writable) return void socket.destroy();
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n${extra}\r\n${text}`,
  );
}
