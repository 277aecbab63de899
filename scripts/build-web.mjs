/**
 * Builds the browser assets into dist/web (run by `npm run build`, after tsc):
 *   client.js   the SDK (src/client/browser.ts) as one ESM file with rxjs and zod inside, chunk
 *               verification by WebCrypto (verify.browser.ts in place of verify.ts): what
 *               `chunkstream/client` resolves to for browsers and what the server serves at /client.js;
 *   hash-worker.js  the SDK's chunk hashing worker (verify.browser.ts), loaded from beside client.js;
 *   app.js      the web page's code (src/web/main.ts), which imports the SDK from ./client.js, so
 *               the page and anyone importing /client.js share one copy;
 *   index.html, app.css, favicon.svg   copied as they are.
 * Users of the package run none of this: dist/web ships in it.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/web');
const STATIC = ['index.html', 'app.css', 'favicon.svg'];

// zod's locales (~250 KB: every language's error messages) and its JSON-Schema import are
// reachable from `import { z } from 'zod'` but never used by the SDK, which keeps zod's English
// messages. Everything else is tree-shaken by esbuild as usual.
const zodTrim = {
  name: 'zod-trim',
  setup(build) {
    build.onResolve({ filter: /locales\/index\.js$|from-json-schema\.js$/ }, (a) =>
      /[\\/]zod[\\/]/.test(a.importer) ? { path: a.path, namespace: 'zod-trim' } : undefined,
    );
    build.onLoad({ filter: /locales/, namespace: 'zod-trim' }, () => ({ contents: 'export {};', loader: 'js' }));
    build.onLoad({ filter: /from-json-schema/, namespace: 'zod-trim' }, () => ({
      contents: 'export function fromJSONSchema() { throw new Error("fromJSONSchema is not in the browser build"); }',
      loader: 'js',
    }));
  },
};

// Chunk verification: WebCrypto in browsers; verify.ts (hash threads, node:worker_threads) is Node's.
const browserVerify = {
  name: 'browser-verify',
  setup(build) {
    build.onResolve({ filter: /^\.\/verify\.js$/ }, (a) =>
      /[\\/]src[\\/]client$/.test(a.resolveDir) ? { path: path.join(a.resolveDir, 'verify.browser.ts') } : undefined,
    );
  },
};

// The page reaches the SDK only through its public entry, loaded at run time from ./client.js;
// any other import of the SDK's modules would bundle a second copy of them into app.js.
const sdkExternal = {
  name: 'sdk-external',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/client\/browser\.js$/ }, () => ({ path: './client.js', external: true }));
    build.onResolve({ filter: /^\.\.\// }, (a) => ({
      errors: [{ text: `the page may import the SDK only as '../client/browser.js' (got '${a.path}' in ${a.importer})` }],
    }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};

mkdirSync(out, { recursive: true });
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'src/client/browser.ts')],
  outfile: path.join(out, 'client.js'),
  plugins: [zodTrim, browserVerify],
});
// Loaded by client.js as new URL('./hash-worker.js', import.meta.url): it sits beside it.
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'src/client/hash-worker.ts')],
  outfile: path.join(out, 'hash-worker.js'),
});
await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'src/web/main.ts')],
  outfile: path.join(out, 'app.js'),
  plugins: [sdkExternal],
});
for (const f of STATIC) copyFileSync(path.join(root, 'src/web', f), path.join(out, f));

const sizes = {};
for (const f of ['client.js', 'hash-worker.js', 'app.js', ...STATIC]) {
  const data = readFileSync(path.join(out, f));
  sizes[f] = { bytes: data.length, gzip: gzipSync(data, { level: 9 }).length };
}
// README quotes client.js's and hash-worker.js's sizes: test/package/bundle-sizes.test.ts compares.
writeFileSync(path.join(out, 'sizes.json'), `${JSON.stringify(sizes, null, 2)}\n`);
const kb = (n) => `${(n / 1000).toFixed(1)} kB`;
console.log(
  `web: ${Object.entries(sizes)
    .map(([f, s]) => `${f} ${kb(s.bytes)} (${kb(s.gzip)} gzip)`)
    .join(', ')}`,
);
