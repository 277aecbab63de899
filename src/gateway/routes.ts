import { checkId } from '../catalog/model.js';
import { BadRequestError } from '../errors.js';

/** Who may call a route: anyone (probes, the web page), a bearer token, or a token or a signed link. */
export type Access = 'open' | 'token' | 'link';

/**
 * One entry of the server's route table. The table is the one place the routes are known: the
 * HTTP handler dispatches by it (and answers 405 with its `Allow`), the access log and metrics
 * label requests by it, and the web page's config asks it whether a route exists.
 */
export interface Route<C> {
  /** The path; `:id` stands for one segment (a file or upload id). */
  readonly template: string;
  readonly methods: readonly string[];
  readonly access: Access;
  /** The access log's and metrics' route label; default the template. */
  readonly label?: string;
  /** The request field `:id` is reported as in errors (default `id`). */
  readonly idField?: string;
  /** Answers the request; a `:id` route finds the checked id in the context. */
  run(c: C): Promise<void>;
}

export interface RouteTable<C> {
  /** The route whose template `path` fits (no validation: auth is decided before the id is judged). */
  find(path: string): Route<C> | undefined;
  /** The `:id` segment of `path` under `route`, decoded and checked (400 when it is not an id). */
  idOf(route: Route<C>, path: string): string | undefined;
  readonly routes: readonly Route<C>[];
}

interface Compiled<C> {
  route: Route<C>;
  pattern: RegExp;
}

export function routeTable<C>(routes: readonly Route<C>[]): RouteTable<C> {
  const compiled: Compiled<C>[] = routes.map((route) => ({ route, pattern: compile(route.template) }));
  const byRoute = new Map(compiled.map((c) => [c.route, c]));
  return {
    routes,
    find: (path) => compiled.find((c) => c.pattern.test(path))?.route,
    idOf(route, path) {
      const segment = byRoute.get(route)?.pattern.exec(path)?.[1];
      if (segment === undefined) return undefined;
      // Split before decoding: an encoded "/" (`..%2F..%2Fetc`) stays inside the id and fails checkId.
      const field = route.idField ?? 'id';
      return checkId(decodeSegment(segment, field), field);
    },
  };
}

function compile(template: string): RegExp {
  const parts = template.split(':id').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('([^/]*)')}$`);
}

/** A path segment, percent-decoded; a malformed escape is a 400 naming `field`. */
export function decodeSegment(segment: string, field: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError(field, 'malformed percent-encoding');
  }
}
