import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkId } from '../../catalog/model.js';
import type { Store } from '../../engine/store.js';
import { BadRequestError } from '../../errors.js';
import { sendJson } from '../http/respond.js';

export interface UploadsRoute {
  allow: string[];
  run(c: { store: Store; req: IncomingMessage; res: ServerResponse; signal: AbortSignal }): Promise<void>;
}

/**
 * Unfinished uploads, for `chunkstream uploads --server`:
 *   GET    /v1/uploads        { uploads: UploadInfo[] }
 *   GET    /v1/uploads/:id    the upload's status (offset; `committed` once it has)
 *   DELETE /v1/uploads/:id    204: the session goes (its chunks at the next gc), or a committed marker (the file stays)
 */
export function uploadsRoute(path: string): UploadsRoute | undefined {
  if (path === '/v1/uploads') {
    return {
      allow: ['GET', 'HEAD'],
      run: async ({ store, res, signal }) => sendJson(res, 200, { uploads: await store.listUploads({ signal }) }),
    };
  }
  const m = /^\/v1\/uploads\/([^/]*)$/.exec(path);
  if (!m) return undefined;
  const id = checkId(decode(m[1]!), 'uploadId');
  return {
    allow: ['GET', 'HEAD', 'DELETE'],
    async run({ store, req, res, signal }) {
      if (req.method !== 'DELETE') return sendJson(res, 200, await store.uploadStatus(id, { signal }));
      await store.abortUpload(id, { signal });
      res.writeHead(204).end();
    },
  };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadRequestError('uploadId', 'malformed percent-encoding');
  }
}
