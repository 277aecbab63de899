// The browser build of chunkstream/client (dist/web/client.js, bundled by scripts/build-web.mjs):
// the same SDK, with zod's eval-based JIT off so it runs under a strict CSP.
import './zod-jitless.js';

export * from './index.js';
