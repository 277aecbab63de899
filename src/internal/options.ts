import * as z from './zod.js';
import { InvalidOptionError } from '../errors.js';

/** Works for zod/mini and classic zod schemas alike (the server's own options use classic zod). */
export function parseOptions<S extends z.core.$ZodType>(schema: S, value: unknown): z.output<S> {
  const r = z.safeParse(schema, value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (!issue) throw new InvalidOptionError('options', 'invalid');
  const key = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.') || 'options';
  const message = issue.code === 'unrecognized_keys' ? 'unknown option' : issue.message;
  throw new InvalidOptionError(key, message);
}

/**
 * Defaults, then the caller's options over them (an option set to `undefined` keeps its
 * default), validated at once: the one way every factory here resolves its options.
 */
export function resolveOptions<S extends z.core.$ZodType>(schema: S, defaults: object, options: unknown, what = 'options'): z.output<S> {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidOptionError(what, 'must be an object');
  const defined = Object.fromEntries(Object.entries(options ?? {}).filter(([, v]) => v !== undefined));
  return parseOptions(schema, { ...defaults, ...defined });
}
