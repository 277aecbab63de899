import { byId } from './dom.js';
import type { Session } from './session.js';

export interface SignedLink {
  url: string;
  expires: string;
}

/** An error as the HTTP API reports it: `{ "error": { "code", "message" } }`. */
export class HttpError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * A signed link to one file (`POST /v1/files/ID/links`): a URL that serves the file without a
 * token until it expires, so it can be shared, or handed to the browser's own download manager.
 * Offered only when the server has the route (`config.links`).
 */
export async function createLink(session: Session, id: string, expiresIn = 3600): Promise<SignedLink> {
  const res = await fetch(`/v1/files/${encodeURIComponent(id)}/links`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...session.authHeaders() },
    body: JSON.stringify({ expiresIn }),
    cache: 'no-store',
  });
  const body = (await res.json().catch(() => ({}))) as { url?: unknown; expires?: unknown; error?: { code?: string; message?: string } };
  if (!res.ok || typeof body.url !== 'string') {
    throw new HttpError(body.error?.code ?? 'internal', body.error?.message ?? `the server answered ${res.status}`, res.status);
  }
  return { url: new URL(body.url, location.href).href, expires: typeof body.expires === 'string' ? body.expires : '' };
}

/** The lifetime chosen beside the filter (1 hour, 1 day, 7 days: the server allows up to 7 days), in seconds. */
export function linkLifetime(): number {
  return Number(byId<HTMLSelectElement>('link-life').value) || 3600;
}

/** " (valid until 12/8/2026, 3:04:05 PM)", or nothing when the server did not say. */
export function validUntil(link: SignedLink): string {
  return link.expires ? ` (valid until ${new Date(link.expires).toLocaleString()})` : '';
}
