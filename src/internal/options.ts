import * as z from './zod.js';
import { InvalidOptionError } from '../errors.js';

/** Works for zod/mini and classic zod schemas alike (the server's own options use classic zod). */
export function parseOptions<S extends z.core.$ZodType>(schema: S, value: unknown): z.output<S> {
  const r = z.safeParse(schema, value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const key = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || 'options';
  const message = issue.code === 'unrecognized_keys' ? 'unknown option' : issue.message;
  throw new InvalidOptionError(key, message);
}
