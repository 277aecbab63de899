import type { RequestContext } from '../handler-options.js';
import { sendJson } from '../http/respond.js';
import type { Route } from '../routes.js';

/**
 * Unfinished uploads, for `chunkstream uploads --server`:
 *   GET    /v1/uploads        { uploads: UploadInfo[] }
 *   GET    /v1/uploads/:id    the upload's status (offset; `committed` once it has)
 *   DELETE /v1/uploads/:id    204: the session goes (its chunks at the next gc), or a committed marker (the file stays)
 */
export function uploadRoutes(): Route<RequestContext>[] {
  return [
    {
      template: '/v1/uploads',
      methods: ['GET', 'HEAD'],
      access: 'token',
      run: async ({ store, res, signal }) => sendJson(res, 200, { uploads: await store.listUploads({ signal }) }),
    },
    {
      template: '/v1/uploads/:id',
      methods: ['GET', 'HEAD', 'DELETE'],
      access: 'token',
      idField: 'uploadId',
      async run({ store, req, res, signal, id }) {
        if (req.method !== 'DELETE') return sendJson(res, 200, await store.uploadStatus(id!, { signal }));
        await store.abortUpload(id!, { signal });
        res.writeHead(204).end();
      },
    },
  ];
}
