// Browsers: WebCrypto digests run natively, off the page's main thread. (Replaces verify.ts in
// browser builds: package.json `browser` field, and the alias in the browser bundle.)

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Hex SHA-256 of `bytes` with `crypto.subtle`. */
export async function chunkDigest(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const b of d) hex += HEX[b];
  return hex;
}
