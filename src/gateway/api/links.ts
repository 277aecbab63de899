import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkId } from '../../catalog/model.js';
import type { Store } from '../../engine/store.js';
import { AbortError, BadRequestError, TooLargeError } from '../../errors.js';
import { sendJson } from '../http/respond.js';
import { hasLinkParams, linkQuery, parseLinkRequest, verifyLink } from '../links.js';

/** A link request body is `{"expiresIn": N}`: anything longer is not one. */
const MAX_BODY = 4096;

export interface LinkContext {
  store: Store;
  secret: () => Promise<Uint8Array>;
  /** Base of the URLs handed out (`--public-url`), else `http://` + the request's Host. */
  publicUrl?: string;
  /** The server's own URL, for a request without a Host header. */
  serverUrl?: () => string | undefined;
}

/** `POST /v1/files/ID/links` `{ expiresIn }` → 200 `{ url, expires }` for a file that exists. */
export async function createLink(
  c: LinkContext,
  id: string,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const expiresIn = parseLinkRequest(await readSmallBody(req, res, MAX_BODY));
  await c.store.manifest(id, { signal }); // 404 for a file that does not exist
  const expires = Math.floor(Date.now() / 1000) + expiresIn;
  const base = linkBase(c, req);
  const url = `${base}/v1/files/${id}?${linkQuery(await c.secret(), id, expires)}`;
  sendJson(res, 200, { url, expires: new Date(expires * 1000).toISOString() });
}

/**
 * The file id a request's signed link is for, or undefined if the request is not a link request
 * (then the bearer token decides). Only GET/HEAD of `/v1/files/ID` can be a link; link
 * parameters elsewhere are ignored. Returns the link's remaining lifetime for Cache-Control.
 */
export async function authorizeLink(
  c: Pick<LinkContext, 'secret'>,
  url: URL,
  method: string,
): Promise<{ id: string; remainingS: number } | undefined> {
  if (!hasLinkParams(url) || (method !== 'GET' && method !== 'HEAD')) return undefined;
  const m = /^\/v1\/files\/([0-9a-z]+)$/.exec(url.pathname);
  if (!m) return undefined;
  const id = checkId(m[1]);
  const now = Math.floor(Date.now() / 1000);
  const expires = verifyLink(await c.secret(), id, url, now); // throws 403 forbidden
  return { id, remainingS: expires - now };
}

function linkBase(c: LinkContext, req: IncomingMessage): string {
  if (c.publicUrl) return c.publicUrl.replace(/\/+$/, '');
  const host = req.headers.host;
  if (host) return `http://${host}`;
  const own = c.serverUrl?.();
  if (own) return own;
  throw new BadRequestError('host', 'a Host header is needed to build the link URL (or start the server with --public-url)');
}

/** The whole (small) body; past `limit` a 413 that closes the connection rather than reading on. */
function readSmallBody(req: IncomingMessage, res: ServerResponse, limit: number): Promise<string> {
  const tooLarge = () => {
    res.setHeader('Connection', 'close');
    return new TooLargeError('body', limit, `body: a link request is at most ${limit} bytes`);
  };
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const onData = (part: Buffer) => {
      size += part.length;
      parts.push(part);
      if (size <= limit) return;
      req.off('data', onData).off('end', onEnd).pause();
      reject(tooLarge());
    };
    const onEnd = () => resolve(Buffer.concat(parts).toString('utf8'));
    const onClose = () => reject(new AbortError('the client closed the request before the body ended'));
    req.on('data', onData).once('end', onEnd).once('error', reject).once('close', onClose);
  });
}
