/**
 * The URL of an API path on `--server`, under the server URL's own path: a server behind a proxy
 * at a sub-path (`--server https://host/files/`) is asked at `/files/v1/…`, WebSocket included.
 * (`new URL('/v1/…', base)` would drop that path and ask the proxy's root.)
 */
export function serverEndpoint(base: URL, path: string): URL {
  return new URL(`${serverPrefix(base)}${path}`, base);
}

/** The server URL's path without its trailing slash: '' for `http://host:8080` or `http://host:8080/`. */
export function serverPrefix(base: URL): string {
  return base.pathname.replace(/\/+$/, '');
}
