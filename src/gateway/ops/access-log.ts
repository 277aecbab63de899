import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { transferOutcome, withMeter, type TransferMeter } from '../../engine/observer.js';
import { toChunkstreamError } from '../../errors.js';
import { responseErrors } from '../http/respond.js';
import { redactTarget, type Logger } from './log.js';
import { meterRequest, type RequestRecord } from './meter.js';
import type { ServerMetrics } from './metrics.js';

/** A proxy's request id is kept if it is a plain token; anything else gets a fresh one. */
const SAFE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

export function requestIdOf(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given !== undefined && SAFE_ID.test(given) ? given : randomUUID();
}

/** The route label of a request path (a fixed set: metric label, log field, never an id); the server's route table gives it. */
export type RouteLabel = (path: string) => string;

const unlabelled: RouteLabel = () => 'other';

const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

const pathOf = (target: string) => {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
};

/**
 * Wraps the HTTP handler: every request gets an id (sent back as `X-Request-Id`), its transfers
 * a meter (protocol label, bytes), handed to the handler with the id — or the ambient one under /v1/tus/ — and one
 * access log line when its response closes: method, route, redacted target, status, the error
 * code if it failed, file bytes moved, bytes sent, duration, remote address. Headers are never
 * logged (no Authorization), and the query's `sig` (signed links) is redacted. Successful probes
 * and scrapes (/healthz, /readyz, /metrics) are logged at debug: they come every few seconds.
 */
export function accessLogged(
  handler: (req: IncomingMessage, res: ServerResponse, record: RequestRecord) => void,
  o: { logger: Logger; metrics?: ServerMetrics; routeOf?: RouteLabel },
): (req: IncomingMessage, res: ServerResponse) => void {
  const routeOf = o.routeOf ?? unlabelled;
  return (req, res) => {
    const t0 = performance.now();
    const id = requestIdOf(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', id);
    const target = req.url ?? '/';
    const path = pathOf(target);
    const meter = meterRequest(req, path);
    const socket = req.socket as { bytesWritten?: number; remoteAddress?: string } | undefined;
    const written = socket?.bytesWritten ?? 0;
    const remote = socket?.remoteAddress; // now: a socket that closed no longer tells
    res.once('close', () => {
      const method = req.method ?? 'GET';
      const route = routeOf(path);
      const err = responseErrors.get(res);
      const status = res.headersSent ? res.statusCode : 0; // 0: closed before any answer
      o.metrics?.http(method, route, status, (performance.now() - t0) / 1000);
      // What the metrics counted for its transfer, if it ran one to its end; else the same rule on
      // the response (a response cut before its end is aborted, whatever its status said).
      const outcome = meter.outcome ?? transferOutcome(err, !res.writableFinished);
      const line = {
        reqId: id,
        kind: 'http',
        method,
        route,
        url: redactTarget(target),
        status,
        end: outcome.end,
        ...(err ? { code: err.code } : outcome.ok ? {} : { code: outcome.code }),
        // The whole message (store keys, paths) for the operator: clients got publicMessage's.
        ...(err && status >= 500 ? { err: err.message } : {}),
        ...(res.writableFinished ? {} : { complete: false }),
        protocol: meter.protocol,
        bytes: meter.bytes,
        bytesSent: (socket?.bytesWritten ?? written) - written,
        ms: Math.round((performance.now() - t0) * 10) / 10,
        remote,
        ...(req.headers['x-forwarded-for'] ? { forwardedFor: String(req.headers['x-forwarded-for']).slice(0, 200) } : {}),
      };
      const msg = `${method} ${line.url} ${status}`;
      if (status >= 500 && err?.code !== 'busy') o.logger.error(line, msg);
      else if (err?.code === 'busy') o.logger.warn(line, msg);
      else if (PROBES.has(route) && status < 400)
        o.logger.debug(line, msg); // every few seconds from a balancer or Prometheus
      else o.logger.info(line, msg);
    });
    // Our own routes pass the request's meter (record.meter) to their transfers; a handler that
    // does not know of meters (tus) gets it as the ambient one. Only there: AsyncLocalStorage costs a little on
    // every promise of the process once it is used.
    const record: RequestRecord = { id, meter };
    if (meter.protocol === 'tus') withMeter(meter, () => handler(req, res, record));
    else handler(req, res, record);
  };
}

/**
 * The access line and metric of a request answered on its raw socket, never reaching the
 * handler: a refused WebSocket upgrade (400, 401, 403, 404, 421, 503), a CONNECT (405).
 */
export function refusalLogged(o: {
  logger: Logger;
  metrics?: ServerMetrics;
  routeOf?: RouteLabel;
}): (req: IncomingMessage, status: number, code?: string) => void {
  const routeOf = o.routeOf ?? unlabelled;
  return (req, status, code) => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '/';
    const route = routeOf(pathOf(target));
    o.metrics?.http(method, route, status);
    const line = {
      reqId: requestIdOf(req.headers['x-request-id']),
      kind: 'http',
      method,
      route,
      url: redactTarget(target),
      status,
      ...(code ? { code } : {}),
      upgrade: req.headers.upgrade !== undefined,
      remote: req.socket.remoteAddress,
      ...(req.headers['x-forwarded-for'] ? { forwardedFor: String(req.headers['x-forwarded-for']).slice(0, 200) } : {}),
    };
    const msg = `${method} ${line.url} ${status}`;
    if (status >= 500 && code !== 'busy') o.logger.error(line, msg);
    else if (code === 'busy') o.logger.warn(line, msg);
    else o.logger.info(line, msg);
  };
}

/** One WebSocket connection, as its log lines name it. */
export interface WsPeer {
  /** The upgrade request's id (also its `X-Request-Id`). */
  readonly id: string;
  readonly remote?: string;
  /** The per-client budget share's key (client-key.ts). */
  readonly client?: string;
}

/** How a WebSocket stream ended. */
export type StreamEnd = { outcome: 'ok' } | { outcome: 'error'; error: unknown } | { outcome: 'cancelled' };

/** The WebSocket gateway's logging: one line per stream (and one per connection when it closes). */
export interface WsLog {
  stream(peer: WsPeer, stream: number, type: string): { meter: TransferMeter; end(how: StreamEnd): void };
  closed(peer: WsPeer, info: { code: number; streams: number; ms: number }): void;
}

export function wsLog(logger: Logger): WsLog {
  return {
    stream(peer, stream, type) {
      const t0 = performance.now();
      const meter: TransferMeter = { protocol: 'ws', bytes: 0 };
      let ended = false;
      return {
        meter,
        end(how) {
          if (ended) return;
          ended = true;
          const code = how.outcome === 'error' ? toChunkstreamError(how.error).code : undefined;
          // The engine's verdict if its transfer already ended, else the same rule on how the stream ended.
          const outcome = meter.outcome ?? transferOutcome(how.outcome === 'error' ? how.error : undefined, how.outcome === 'cancelled');
          const line = {
            reqId: peer.id,
            kind: 'ws',
            type,
            stream,
            outcome: how.outcome,
            end: outcome.end,
            ...(code ? { code } : {}),
            ...(how.outcome === 'error' ? { err: toChunkstreamError(how.error).message } : {}),
            bytes: meter.bytes,
            ms: Math.round((performance.now() - t0) * 10) / 10,
            remote: peer.remote,
          };
          const msg = `ws ${type} stream ${stream} ${code ?? how.outcome}`;
          if (code === 'internal' || code === 'storage' || code === 'integrity' || code === 'missing_chunk') logger.error(line, msg);
          else logger.info(line, msg);
        },
      };
    },
    closed(peer, info) {
      logger.info({ reqId: peer.id, kind: 'ws', type: 'close', ...info, remote: peer.remote }, `ws connection closed ${info.code}`);
    },
  };
}
