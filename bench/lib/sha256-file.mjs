// The one-core SHA-256 peer of scenario 3: hashes FILE with node:crypto, reading it in 4 MiB pieces.
// Usage: node bench/lib/sha256-file.mjs FILE
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

const hash = createHash('sha256');
for await (const piece of createReadStream(process.argv[2], { highWaterMark: 4 * 1024 * 1024 })) hash.update(piece);
process.stdout.write(`${hash.digest('hex')}\n`);
