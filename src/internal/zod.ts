// zod for the schemas the client SDK shares with the server (protocol messages, names and ids,
// options): zod/mini, whose functions tree-shake, so the browser build carries only the zod it
// uses. Same core, same checks, same issues as classic zod. zod/mini loads no locale by itself
// (every message would read "Invalid input"); classic zod loads English on import, and so does
// this module, before any schema that uses it is built. Import it as a namespace:
// `import * as z from '../internal/zod.js'` (a namespace object passed around would keep all of zod).
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
