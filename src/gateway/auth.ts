import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Token check shared by HTTP and WebSocket. Tokens are compared as SHA-256 digests with
 * timingSafeEqual, so neither the content nor the length of a configured token leaks by timing.
 */
export interface TokenChecker {
  /** True when auth is off (no tokens configured) or `token` is one of the configured tokens. */
  check(token: string | undefined | null): boolean;
  readonly enabled: boolean;
}

export function createTokenChecker(tokens: readonly string[]): TokenChecker {
  const digests = tokens.filter((t) => t.length > 0).map(digest);
  return {
    enabled: digests.length > 0,
    check(token) {
      if (digests.length === 0) return true;
      if (typeof token !== 'string' || token.length === 0) return false;
      const d = digest(token);
      let ok = false;
      for (const known of digests) ok = timingSafeEqual(d, known) || ok; // compare all: constant time
      return ok;
    },
  };
}

/** `Authorization: Bearer <token>` → token, else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
