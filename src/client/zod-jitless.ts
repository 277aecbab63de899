import * as z from '../internal/zod.js';

// Imported before any schema is built (browser.ts): zod compiles object parsers with
// `new Function` unless told not to, and even its probe for that is reported as a violation by
// pages with a strict Content-Security-Policy (no 'unsafe-eval'), such as the server's own page.
// The messages it parses are small; the data frames are not parsed by zod at all.
z.config({ jitless: true });
