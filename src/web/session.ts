import { connect, type Client } from './sdk.js';

export interface WebConfig {
  auth: boolean;
  links: boolean;
}

const TOKEN_KEY = 'chunkstream.token';

/** The page's own origin, as the WebSocket endpoint: same host, ws: or wss: to match the page. */
export function wsUrl(location: Location = window.location): string {
  const url = new URL('/v1/ws', location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

/**
 * One SDK client for the page, and the token it was opened with. The token lives in
 * sessionStorage (this tab only, gone when it closes) and never in a URL; it is stored only once
 * the server accepted it.
 */
export class Session {
  private client: Client | undefined;
  private opening: Promise<Client> | undefined;

  constructor(readonly config: WebConfig) {}

  get token(): string {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  }

  /** Connects with `token` (default: the stored one); rejects with code `unauthorized` for a bad one. */
  open(token = this.token): Promise<Client> {
    this.opening ??= (async () => {
      try {
        await this.client?.close();
        this.client = undefined;
        // Redialling for about 6 s (100 ms × 2^n, 6 attempts) before an operation fails with
        // connection_lost; transfers then try again by themselves a few times (retry.ts), and
        // anything else offers a Reconnect button.
        const client = await connect(wsUrl(), { token, reconnectAttempts: 6, reconnectDelayMs: 100 });
        if (this.config.auth) sessionStorage.setItem(TOKEN_KEY, token);
        this.client = client;
        return client;
      } catch (err) {
        if ((err as { code?: string }).code === 'unauthorized') sessionStorage.removeItem(TOKEN_KEY);
        throw err;
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }

  /** The open client (it redials by itself after a dropped connection). */
  get(): Promise<Client> {
    return this.client ? Promise.resolve(this.client) : this.open();
  }

  async forget(): Promise<void> {
    sessionStorage.removeItem(TOKEN_KEY);
    const c = this.client;
    this.client = undefined;
    await c?.close();
  }

  /** Headers for the HTTP API (share links), which takes the token as a bearer header. */
  authHeaders(): Record<string, string> {
    const token = this.token;
    return token ? { Authorization: `Bearer ${token}` } : {};
  }
}

export async function loadConfig(): Promise<WebConfig> {
  const res = await fetch('/config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error(`GET /config.json answered ${res.status}`);
  const body = (await res.json()) as Partial<WebConfig>;
  return { auth: body.auth === true, links: body.links === true };
}
