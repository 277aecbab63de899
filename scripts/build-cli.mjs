/**
 * Bundles the CLI (run by `npm run build`, after tsc): dist/cli/main.js becomes one ES module with
 * its dependencies inside (rxjs, zod, ws, … tree-shaken), the commands it loads on use in chunk
 * files beside it. A command starts in about half the time of tsc's hundreds of small modules
 * (rxjs alone is ~400 files). The AWS SDK stays outside: it loads only for an s3:// store.
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
  external: ['@aws-sdk/*'],
  // Bundled CommonJS dependencies (fs-extra) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __chunkstreamRequire } from 'node:module'; const require = __chunkstreamRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
});
