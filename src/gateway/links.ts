import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { BadRequestError, ForbiddenError } from '../errors.js';

/** Bounds of a link's lifetime, in seconds: 1 s to 7 days (like S3's presigned URLs); default 1 h. */
export const LINK_LIMITS = { minS: 1, maxS: 7 * 24 * 3600, defaultS: 3600 } as const;

/** `POST /v1/files/ID/links` body. */
export const linkRequestSchema = z
  .object({
    expiresIn: z
      .number({ error: 'must be a number of seconds' })
      .int('must be whole seconds')
      .min(LINK_LIMITS.minS, `must be at least ${LINK_LIMITS.minS} s`)
      .max(LINK_LIMITS.maxS, `must be at most ${LINK_LIMITS.maxS} s (7 days)`)
      .default(LINK_LIMITS.defaultS),
  })
  .strict();

/** The query parameters a signed link adds to `/v1/files/ID`. */
export const LINK_PARAMS = { expires: 'expires', signature: 'sig' } as const;

/**
 * Signed links: `/v1/files/ID?expires=UNIX_SECONDS&sig=BASE64URL(HMAC-SHA-256(secret, message))`
 * where the message binds a purpose, the file id and the expiry. Whoever holds the URL may GET
 * or HEAD that one file (ranges included) until it expires, without a bearer token. Nothing is
 * stored per link: any gateway with the same secret checks it, and none can be revoked short
 * of changing the secret (which revokes them all).
 */
export function signLink(secret: Uint8Array, id: string, expires: number): string {
  return createHmac('sha256', secret).update(message(id, expires)).digest('base64url');
}

export function linkQuery(secret: Uint8Array, id: string, expires: number): string {
  return `${LINK_PARAMS.expires}=${expires}&${LINK_PARAMS.signature}=${signLink(secret, id, expires)}`;
}

/** True when the URL carries link parameters (then it is judged as a link, never by a token). */
export function hasLinkParams(url: URL): boolean {
  return url.searchParams.has(LINK_PARAMS.signature) || url.searchParams.has(LINK_PARAMS.expires);
}

/**
 * Checks a link for file `id` at `nowS`; returns its expiry (seconds) or throws 403 `forbidden`.
 * The comparison is constant-time; an expired link is refused even with a valid signature.
 */
export function verifyLink(secret: Uint8Array, id: string, url: URL, nowS: number): number {
  const expiresText = url.searchParams.get(LINK_PARAMS.expires) ?? '';
  const sig = url.searchParams.get(LINK_PARAMS.signature) ?? '';
  if (!/^\d{1,12}$/.test(expiresText) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) {
    throw new ForbiddenError('the signed link is malformed (expires and sig query parameters)');
  }
  const expires = Number(expiresText);
  const expected = Buffer.from(signLink(secret, id, expires), 'base64url');
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ForbiddenError('the signed link is not valid for this file (tampered, or signed with another secret)');
  }
  if (expires <= nowS) throw new ForbiddenError(`the signed link expired at ${new Date(expires * 1000).toISOString()}`);
  return expires;
}

/** `{ "expiresIn": N }` (optional, default 1 h) → seconds, or 400 naming the field. */
export function parseLinkRequest(body: string): number {
  let json: unknown = {};
  if (body.trim() !== '') {
    try {
      json = JSON.parse(body);
    } catch {
      throw new BadRequestError('body', 'must be JSON like {"expiresIn": 3600}');
    }
  }
  const r = linkRequestSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new BadRequestError(
      issue?.path.join('.') || 'body',
      `${issue?.message ?? 'invalid'} (seconds, ${LINK_LIMITS.minS}..${LINK_LIMITS.maxS})`,
    );
  }
  return r.data.expiresIn;
}

function message(id: string, expires: number): string {
  return `chunkstream-link-v1\nGET\n${id}\n${expires}`;
}
