import WebSocket from 'ws';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connect, type WebSocketConstructor } from '../../../src/client/index.js';
import type { ServerMessageOf } from '../../../src/protocol/messages.js';
import { fakeClock } from '../../helpers/clock.js';
import { closeAfterEach, uploadCutAfter } from '../../helpers/core.js';
import { CHUNK, bytes, startHarness } from '../../helpers/ws-harness.js';
import { RawClient } from '../../helpers/ws-raw.js';

const open = closeAfterEach();
const TTL = 60_000;

async function expiredUpload() {
  const clock = fakeClock();
  const h = open.add(await startHarness({ now: clock.now, uploadTtlMs: TTL }));
  const data = bytes(4 * CHUNK + 11, 21);
  const uploadId = await uploadCutAfter(h.store, data, 'stale.bin', 2);
  const before = await h.store.uploadStatus(uploadId);
  clock.advance(TTL);
  return { h, data, uploadId, before };
}

describe('ws gateway: an expired upload cannot be resumed', () => {
  it('a resume past the expiry is answered with error code expired, and the session keeps its old expiry', async () => {
    const { h, uploadId, before } = await expiredUpload();
    const c = open.add(await RawClient.open(h.url));
    c.send({ type: 'upload', stream: 1, uploadId });
    const reply = await c.onStream<ServerMessageOf<'error'>>(1);
    expect(reply).toMatchObject({ type: 'error', stream: 1, code: 'expired' });
    expect(reply.message).toContain(uploadId);
    expect(c.events.some((e) => e.kind === 'msg' && e.msg.type === 'started')).toBe(false);
    expect(await h.store.uploadStatus(uploadId)).toEqual(before); // not refreshed
    // The socket goes on: a new upload on it works.
    c.send({ type: 'upload', stream: 2, name: 'fresh.bin', size: 0 });
    await c.onStream(2, 'started');
  });

  it('the SDK reports it as a RemoteError with code expired', async () => {
    const { h, data, uploadId } = await expiredUpload();
    const client = await connect(h.url, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    try {
      await expect(lastValueFrom(client.upload((offset) => data.subarray(offset), { uploadId }))).rejects.toMatchObject({
        code: 'expired',
      });
    } finally {
      await client.close();
    }
  });
});
