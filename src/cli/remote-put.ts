import { connect, type Client } from '../client/index.js';
import type { FileInfo } from '../catalog/schema.js';
import { isChunkstreamError, toChunkstreamError } from '../errors.js';
import { abortError } from '../internal/abort.js';
import { UnauthorizedError } from '../protocol/errors.js';
import type { PutSpec } from './backend.js';
import { serverEndpoint } from './server-url.js';

/**
 * `put --server` over the WebSocket protocol: it resumes by upload id (a re-run of the command
 * continues from the server's durable offset), and the SDK reconnects and resumes by itself
 * when the connection drops, since the source can be re-opened at any offset.
 */
export function remotePut(base: URL, token: string | undefined) {
  const url = serverEndpoint(base, '/v1/ws');
  url.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
  let client: Promise<Client> | undefined;

  const connected = async (): Promise<Client> => {
    client ??= connect(url.href, { token: token ?? '' });
    try {
      return await client;
    } catch (err) {
      client = undefined;
      throw cliTerms(err, token);
    }
  };

  return {
    async put(spec: PutSpec): Promise<FileInfo> {
      const c = await connected();
      spec.signal.throwIfAborted();
      return new Promise<FileInfo>((resolve, reject) => {
        const onAbort = () => {
          sub.unsubscribe(); // sends cancel: the server records how far the upload got
          reject(abortError(spec.signal));
        };
        const sub = c
          .upload((offset) => spec.source(offset), {
            ...(spec.uploadId ? { uploadId: spec.uploadId } : { name: spec.name }),
            size: spec.size,
            sha256: spec.sha256,
          })
          .subscribe({
            next(e) {
              if (e.type === 'started') spec.onStarted?.(e.uploadId, e.offset);
              if (e.type === 'committed') resolve(e.file);
            },
            error: (err) => reject(cliTerms(err, token)),
            complete: () => spec.signal.removeEventListener('abort', onAbort),
          });
        spec.signal.addEventListener('abort', onAbort, { once: true });
      });
    },
    async close(): Promise<void> {
      const c = await client?.catch(() => undefined);
      await c?.close();
    },
  };
}

/** The SDK speaks of connect() options; the CLI user has flags. */
function cliTerms(err: unknown, token: string | undefined): Error {
  if (!isChunkstreamError(err) || err.code !== 'unauthorized') return err instanceof Error ? err : toChunkstreamError(err);
  return new UnauthorizedError(
    token
      ? 'the server refused the token (check --token or CHUNKSTREAM_TOKEN)'
      : 'the server requires a token: pass --token TOKEN or set CHUNKSTREAM_TOKEN',
  );
}
