import type { ClientMessageOf, ServerMessage } from '../../protocol/messages.js';
import type { StreamContext, StreamHandle } from './types.js';

type RequestMessage = ClientMessageOf<'list' | 'stat' | 'remove' | 'status'>;

/** list / stat / remove / status: one reply (or an error) on the request's stream id. */
export function startRequest(ctx: StreamContext, msg: RequestMessage): StreamHandle {
  const { store } = ctx.shared;
  const controller = new AbortController();
  const signal = controller.signal;
  const stream = ctx.stream;

  const run = async (): Promise<ServerMessage> => {
    switch (msg.type) {
      case 'list':
        return { type: 'files', stream, files: await store.list({ signal }) };
      case 'stat':
        return { type: 'file', stream, file: await store.stat(msg.id, { signal }) };
      case 'remove':
        return { type: 'file', stream, file: await store.remove(msg.id, { signal }) };
      case 'status': {
        const s = await store.uploadStatus(msg.uploadId, { signal });
        return { type: 'status', stream, uploadId: s.uploadId, name: s.name, offset: s.offset, expires: s.expires };
      }
    }
  };

  run().then(
    (reply) => {
      if (signal.aborted) return;
      ctx.send(reply);
      ctx.finish();
    },
    (err) => {
      if (!signal.aborted) ctx.fail(err);
    },
  );
  return { kind: 'request', cancel: () => controller.abort() };
}
