import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

/** Incremental SHA-256 for verifying downloads as they arrive. */
export interface Sha256 {
  update(data: Uint8Array): void;
  hex(): string;
}

interface NodeCrypto {
  createHash(algorithm: string): { update(data: Uint8Array): unknown; digest(encoding: 'hex'): string };
}

let native: NodeCrypto | undefined;
let probing: Promise<void> | undefined;

/**
 * Under Node, node:crypto hashes ~20× faster than pure JS (the WebSocket benchmark was capped at
 * @noble's ~70 MB/s). Browsers have no incremental WebCrypto digest, so they keep @noble. The
 * specifier is built at run time so browser bundlers do not try to resolve it.
 */
export function loadNativeSha256(): Promise<void> {
  probing ??= (async () => {
    const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
    if (!proc?.versions?.node) return;
    try {
      const specifier = ['node', 'crypto'].join(':');
      native = (await import(/* @vite-ignore */ specifier)) as NodeCrypto;
    } catch {
      native = undefined; // an unusual runtime: stay with the portable hash
    }
  })();
  return probing;
}

export function createSha256(): Sha256 {
  if (native) {
    const h = native.createHash('sha256');
    return { update: (d) => void h.update(d), hex: () => h.digest('hex') };
  }
  const h = sha256.create();
  return { update: (d) => void h.update(d), hex: () => bytesToHex(h.digest()) };
}

/** Which implementation `createSha256` uses now (for tests and diagnostics). */
export function sha256Implementation(): 'node:crypto' | '@noble/hashes' {
  return native ? 'node:crypto' : '@noble/hashes';
}
