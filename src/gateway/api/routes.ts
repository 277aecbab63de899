import { PreconditionFailedError, BadRequestError } from '../../errors.js';
import type { GcOptions, GcReport } from '../../engine/gc-types.js';
import type { RequestContext } from '../handler-options.js';
import { evaluatePreconditions } from '../http/conditional.js';
import { validators } from '../http/representation.js';
import { sendJson } from '../http/respond.js';
import type { Route } from '../routes.js';
import { serveFile } from './download.js';
import { createLink, type LinkContext } from './links.js';
import { receiveFile } from './upload.js';
import { uploadRoutes } from './uploads.js';

export interface ApiDeps {
  links: LinkContext;
  /** Runs POST /v1/gc (the server's gc runner, under the store's gc lease); default store.gc. */
  runGc?: (options: GcOptions) => Promise<GcReport>;
}

/**
 * The HTTP API (v1):
 *   GET  /v1/files                { files: FileInfo[] }
 *   PUT  /v1/files?name=NAME      streamed body → 201 FileInfo
 *   GET|HEAD /v1/files/:id        bytes (conditional, Range, multipart); a signed link needs no token
 *   DELETE /v1/files/:id          204 (If-Match, If-Unmodified-Since)
 *   POST /v1/files/:id/links      { expiresIn } → { url, expires }: a signed link
 *   GET  /v1/files/:id/meta       FileInfo
 *   POST /v1/files/:id/verify     VerifyReport of one file
 *   POST /v1/verify, POST /v1/gc  whole-store maintenance (for `chunkstream --server`)
 *   GET /v1/uploads, GET|DELETE /v1/uploads/:id   unfinished uploads (uploads.ts)
 */
export function apiRoutes(deps: ApiDeps): Route<RequestContext>[] {
  const { links } = deps;

  // If-Match / If-Unmodified-Since / If-None-Match hold or the file stays (412).
  const remove = async (c: RequestContext, id: string) => {
    const m = await c.store.manifest(id, { signal: c.signal });
    if (evaluatePreconditions('DELETE', c.req.headers, validators(m)) !== 'proceed') {
      throw new PreconditionFailedError('the file has another ETag or changed after the date: it was not deleted');
    }
    await c.store.remove(id, { signal: c.signal });
    c.res.writeHead(204).end();
  };

  // ?graceMs=N&dryRun=1 mirror `chunkstream gc --grace-ms N --dry-run`.
  const gc = async ({ store, url, res, signal }: RequestContext) => {
    const grace = url.searchParams.get('graceMs');
    const graceMs = grace === null ? undefined : Number(grace);
    if (graceMs !== undefined && !(Number.isSafeInteger(graceMs) && graceMs >= 0))
      throw new BadRequestError('graceMs', 'must be a non-negative integer');
    const dryRun = ['1', 'true'].includes(url.searchParams.get('dryRun') ?? '');
    sendJson(res, 200, await (deps.runGc ?? store.gc)({ graceMs, dryRun, signal }));
  };

  // ?repair=1 mirrors `chunkstream verify --repair`: the files that named a damaged chunk, whole or not.
  const verify = async ({ store, url, res, signal }: RequestContext, id?: string) => {
    const repair = ['1', 'true'].includes(url.searchParams.get('repair') ?? '');
    sendJson(res, 200, repair ? await store.repair(id, { signal }) : await store.verify(id, { signal }));
  };

  const list = async ({ store, res, signal }: RequestContext) => sendJson(res, 200, { files: await store.list({ signal }) });

  return [
    {
      template: '/v1/files',
      methods: ['GET', 'HEAD', 'PUT'],
      access: 'token',
      run: async (c) => (c.req.method === 'PUT' ? receiveFile(c) : list(c)),
    },
    { template: '/v1/gc', methods: ['POST'], access: 'token', run: gc },
    ...uploadRoutes(),
    { template: '/v1/verify', methods: ['POST'], access: 'token', run: (c) => verify(c) },
    {
      template: '/v1/files/:id',
      methods: ['GET', 'HEAD', 'DELETE'],
      access: 'link',
      run: async (c) => (c.req.method === 'DELETE' ? remove(c, c.id!) : serveFile(c, c.id!, c.link && { maxAgeS: c.link.remainingS })),
    },
    {
      template: '/v1/files/:id/meta',
      methods: ['GET', 'HEAD'],
      access: 'token',
      run: async (c) => sendJson(c.res, 200, await c.store.stat(c.id!, { signal: c.signal })),
    },
    { template: '/v1/files/:id/verify', methods: ['POST'], access: 'token', run: (c) => verify(c, c.id) },
    {
      template: '/v1/files/:id/links',
      methods: ['POST'],
      access: 'token',
      run: async (c) => createLink(links, c.id!, c.req, c.res, c.signal),
    },
  ];
}
