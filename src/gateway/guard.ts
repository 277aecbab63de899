import type { IncomingMessage } from 'node:http';
import { ChunkstreamError, ForbiddenError, MisdirectedError } from '../errors.js';
import { requestAuthority } from './authority.js';

export interface GuardOptions {
  /** The address the server listens on. On a loopback one, Host must be a loopback name (DNS rebinding). */
  listenHost: string;
  /** More Host names to answer for: `files.example.com`, `.example.com` (and its subdomains), `*` (any). */
  allowHosts?: readonly string[];
  /** Origins (`https://app.example`) whose pages may open the WebSocket and send requests; `*` for any. */
  allowOrigins?: readonly string[];
  /** Origins that get CORS headers (and are thereby allowed too); `*` for any. */
  corsOrigins?: readonly string[];
  /** Where clients reach the server (behind a proxy): its host and origin are the server's own. */
  publicUrl?: string;
}

/** Host and Origin policy, shared by the HTTP handler and the WebSocket upgrade. */
export interface RequestGuard {
  /** undefined if the Host header is one this server answers for, else a 421 `misdirected`. */
  checkHost(host: string | undefined): ChunkstreamError | undefined;
  /**
   * undefined if the Origin is absent (not a browser), same-origin or allowed, else a 403
   * `forbidden`. Same-origin compares `scheme` too when given (the request's: `http`, or what a
   * proxy's X-Forwarded-Proto says); without it only host and port.
   */
  checkOrigin(origin: string | undefined, host: string | undefined, scheme?: 'http' | 'https'): ChunkstreamError | undefined;
  /**
   * Both checks on a whole request, HTTP or upgrade: one Host header (400 otherwise, and for an
   * upgrade without one), the absolute-form target's authority in place of Host, the scheme.
   */
  checkRequest(req: IncomingMessage): ChunkstreamError | undefined;
  /** The Access-Control-Allow-Origin value for a request from `origin`, if CORS admits it. */
  corsOrigin(origin: string | undefined): string | undefined;
  /** CORS is configured at all (responses then vary by Origin). */
  readonly cors: boolean;
}

/**
 * Browsers are the threat: any page the user opens may send requests to 127.0.0.1 (a form POST,
 * a WebSocket), and a DNS-rebinding page may even read the answers under its own name. Non-browser
 * clients send no Origin and a Host they chose, and are never affected.
 *
 * - Host: on a loopback listen address only `localhost`, `*.localhost`, `127.x.y.z` and `[::1]`
 *   (any port), the public URL's host and `allowHosts`; elsewhere anything unless `allowHosts`
 *   narrows it (then loopback names are still fine: they cannot be rebound). A request without
 *   Host (HTTP/1.0) is accepted: browsers always send one.
 * - Origin: absent, or same-origin (scheme, host and port equal the request's: what the server's
 *   own page sends; behind a TLS proxy its X-Forwarded-Proto: https, or --public-url), the public
 *   URL's origin, `allowOrigins` or `corsOrigins`. `null` (sandboxed frames, file: pages) is never
 *   same-origin. `https://127.0.0.1:PORT` is another origin than this plain-HTTP listener.
 */
export function createRequestGuard(o: GuardOptions): RequestGuard {
  const allowHosts = (o.allowHosts ?? []).map(normalizeHost);
  const anyHost = allowHosts.includes('*') || (!isLoopback(o.listenHost) && allowHosts.length === 0);
  const publicUrl = o.publicUrl ? new URL(o.publicUrl) : undefined;
  const cors = new Set((o.corsOrigins ?? []).map(normalizeOrigin));
  const origins = new Set([...(o.allowOrigins ?? []).map(normalizeOrigin), ...cors]);
  if (publicUrl) origins.add(publicUrl.origin);
  const anyOrigin = origins.has('*');

  const hostAllowed = (hostname: string) =>
    isLoopbackName(hostname) ||
    hostname === publicUrl?.hostname ||
    allowHosts.some((h) => (h.startsWith('.') ? hostname === h.slice(1) || hostname.endsWith(h) : hostname === h));

  const checkHost: RequestGuard['checkHost'] = (host) => {
    if (anyHost || host === undefined) return undefined;
    const parsed = parseAuthority(host);
    if (parsed && hostAllowed(parsed.hostname)) return undefined;
    return new MisdirectedError(
      `Host ${JSON.stringify(host.slice(0, 100))} is not a name this server answers for (a loopback name, or one given with --allow-host)`,
    );
  };
  const checkOrigin: RequestGuard['checkOrigin'] = (origin, host, scheme) => {
    if (origin === undefined || anyOrigin) return undefined;
    const o = parseOrigin(origin);
    if (o && (origins.has(o.origin) || (sameOrigin(o, host) && (scheme === undefined || o.scheme === scheme)))) return undefined;
    return new ForbiddenError(
      `Origin ${JSON.stringify(origin.slice(0, 100))} is not allowed (only same-origin pages, --allow-origin and --cors-origin)`,
    );
  };

  return {
    cors: cors.size > 0,
    checkHost,
    checkOrigin,
    checkRequest(req) {
      const a = requestAuthority(req);
      if (a instanceof ChunkstreamError) return a;
      return checkHost(a.host) ?? checkOrigin(a.origin, a.host, a.scheme);
    },
    corsOrigin(origin) {
      if (origin === undefined || cors.size === 0) return undefined;
      if (cors.has('*')) return '*';
      const o = parseOrigin(origin);
      return o && cors.has(o.origin) ? origin : undefined;
    },
  };
}

/** A listen address on this machine only: a loopback name or address as given to --host. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `localhost`, `*.localhost` (RFC 6761: always loopback), `127.0.0.0/8`, `[::1]`. */
export function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '[::1]' || /^127(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/.test(h);
}

/**
 * A Host header's name (normalized as browsers do: case, IPv6 and IPv4 forms) and its port as
 * written ('' if none), or undefined if malformed.
 */
export function parseAuthority(host: string): { hostname: string; port: string } | undefined {
  const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::(\d{1,5}))?$/.exec(host);
  if (!m) return undefined;
  try {
    return { hostname: new URL(`http://${m[1]}/`).hostname.replace(/\.$/, ''), port: m[2] === undefined ? '' : String(Number(m[2])) };
  } catch {
    return undefined;
  }
}

interface Origin {
  origin: string;
  scheme: 'http' | 'https';
  hostname: string;
  /** Explicit or the scheme's default. */
  port: string;
  defaultPort: string;
}

function parseOrigin(origin: string): Origin | undefined {
  if (origin === 'null') return undefined;
  try {
    const u = new URL(origin);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    const defaultPort = u.protocol === 'https:' ? '443' : '80';
    return {
      origin: u.origin,
      scheme: u.protocol === 'https:' ? 'https' : 'http',
      hostname: u.hostname.replace(/\.$/, ''),
      port: u.port || defaultPort,
      defaultPort,
    };
  } catch {
    return undefined;
  }
}

/** The page's host and port are the request's: a missing Host port is the Origin scheme's default. */
function sameOrigin(o: Origin, host: string | undefined): boolean {
  const h = host === undefined ? undefined : parseAuthority(host);
  return h !== undefined && h.hostname === o.hostname && (h.port || o.defaultPort) === o.port;
}

/** As a Host header's name would arrive (`Files.Example.` → `files.example`, `[0::1]` → `[::1]`). */
function normalizeHost(h: string): string {
  const lower = h.toLowerCase().replace(/\.$/, '');
  if (lower === '*' || lower.startsWith('.')) return lower;
  return parseAuthority(lower)?.hostname ?? lower;
}

/** `https://App.Example:443/` → `https://app.example`; `*` stays. Options are validated before. */
export function normalizeOrigin(origin: string): string {
  return origin === '*' ? '*' : new URL(origin).origin;
}
