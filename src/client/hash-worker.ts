// A dedicated worker of the browser SDK (verify.browser.ts): SHA-256 of received chunks with
// WebCrypto, off the page's main thread. Chromium runs crypto.subtle.digest synchronously on the
// calling thread (~7 ms per 4 MiB chunk here), so on the page's thread it held up the WebSocket.
// The chunk's buffer comes transferred (no copy) and goes back the same way with the digest.

export interface HashRequest {
  id: number;
  buffer: ArrayBuffer;
  offset: number;
  length: number;
}
export type HashReply =
  { ready: true } | { id: number; buffer: ArrayBuffer; hex: string } | { id: number; buffer: ArrayBuffer; error: string };

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const scope = self as unknown as {
  onmessage: ((ev: { data: HashRequest }) => void) | null;
  postMessage(message: HashReply, transfer?: Transferable[]): void;
};

scope.onmessage = ({ data }) => void digest(data);

async function digest({ id, buffer, offset, length }: HashRequest): Promise<void> {
  try {
    const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(buffer, offset, length)));
    let hex = '';
    for (const b of d) hex += HEX[b];
    scope.postMessage({ id, buffer, hex }, [buffer]);
  } catch (err) {
    scope.postMessage({ id, buffer, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, [buffer]);
  }
}
// Only once this arrives does the page hand over buffers: a worker that failed to load (a CSP
// without 'self' for workers, a bundler that left the file out) never swallows a chunk.
scope.postMessage({ ready: true });
