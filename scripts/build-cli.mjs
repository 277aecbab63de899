/**
 * Bundles the CLI (run by `npm run build`, after tsc): dist/cli/main.js becomes one ES module with
 * its dependencies inside (rxjs, zod, ws, … tree-shaken), the commands it loads on use in chunk
 * files beside it. A command starts in about half the time of tsc's hundreds of small modules
 * (rxjs alone is ~400 files). The AWS SDK stays outside: it loads only for an s3:// store; so
 * does bufferutil, a native addon (below).
 * Paths the CLI derives from its own location (package.json, dist/internal/hash-thread.js,
 * dist/web) are the same from dist/cli/ as from tsc's output.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
await esbuild.build({
  entryPoints: [path.join(root, 'src/cli/main.ts')],
  outdir: path.join(root, 'dist/cli'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // bufferutil finds its prebuilt binary from its own directory: bundled, it looked in dist/cli/,
  // found none, and ws unmasked every uploaded frame in a JS loop (~250 MB/s instead of >10 GB/s).
  // Left outside, ws requires it from node_modules (it is an optional dependency: if it did not
  // install, ws falls back to that loop by itself).
  // lmdb (the fs store's name index) loads its prebuilt binary from its own package directory, as bufferutil does.
  external: ['@aws-sdk/*', 'bufferutil', 'lmdb'],
  // Bundled CommonJS dependencies (fs-extra) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __chunkstreamRequire } from 'node:module'; const require = __chunkstreamRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
