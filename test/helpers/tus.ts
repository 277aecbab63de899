import { Upload, type UploadOptions } from 'tus-js-client';
import { request, type Reply } from './http-server.js';

export interface TusDone {
  /** The upload URL (Location of the creation). */
  url: string;
  /** Chunkstream-File-Id of the response that committed the file. */
  fileId: string;
  /** Upload-Offset of every successful PATCH response, in order. */
  offsets: number[];
}

/**
 * The real tus-js-client (Node build) uploading `data`; resolves when it reports success. No
 * retries unless asked: a test sees the first failure. `stopAfter(offsets, upload)` may abort it
 * (then the promise resolves with what it had, fileId '').
 */
export function tusUpload(
  data: Buffer,
  o: Partial<UploadOptions> & { stopAfter?: (offsets: number[], upload: Upload) => boolean } = {},
): Promise<TusDone & { upload: Upload }> {
  const { stopAfter, ...options } = o;
  const offsets: number[] = [];
  let fileId = '';
  return new Promise((resolve, reject) => {
    const upload: Upload = new Upload(data, {
      retryDelays: null,
      ...options,
      onAfterResponse: (req, res) => {
        const id = res.getHeader('Chunkstream-File-Id');
        if (id) fileId = id;
        if (req.getMethod() === 'PATCH' && res.getStatus() === 204) offsets.push(Number(res.getHeader('Upload-Offset')));
        return options.onAfterResponse?.(req, res);
      },
      onChunkComplete: (chunk, sent, total) => {
        options.onChunkComplete?.(chunk, sent, total);
        // Synchronously: tus-js-client then starts no further PATCH.
        if (stopAfter?.(offsets, upload)) {
          void upload.abort().then(() => resolve({ url: upload.url ?? '', fileId: '', offsets, upload }), reject);
        }
      },
      onSuccess: () => resolve({ url: upload.url ?? '', fileId, offsets, upload }),
      onError: reject,
    });
    upload.start();
  });
}

/** A raw tus request with Tus-Resumable (and a token) set. */
export function tus(
  url: string,
  method: string,
  headers: Record<string, string | number> = {},
  body?: Uint8Array,
  token?: string,
): Promise<Reply> {
  return request(url, {
    method,
    headers: { 'Tus-Resumable': '1.0.0', ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body,
  });
}

/** `key base64(value)` pairs, as tus clients encode Upload-Metadata. */
export function metadata(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');
}
