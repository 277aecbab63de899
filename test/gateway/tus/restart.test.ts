import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bytes, CHUNK } from '../../helpers/core.js';
import { assertBuilt, serve, type ServeChild } from '../../helpers/http-cli.js';
import { request } from '../../helpers/http-server.js';
import { tus, tusUpload } from '../../helpers/tus.js';
import { tempDir } from '../../helpers/core.js';

const TOKEN = 'kill-s3cret';
const auth = { Authorization: `Bearer ${TOKEN}` };
let child: ServeChild | undefined;
let dir = '';
beforeAll(assertBuilt);
afterEach(async () => {
  await child?.stop();
  child = undefined;
});

const start = () => serve(['--port', '0', '--dir', dir, '--chunk-size', '64KiB', '--token', TOKEN]);

describe('tus across a server killed with SIGKILL', () => {
  it('HEAD on the restarted server reports a durable offset (at least every answered PATCH) and the upload resumes from it', async () => {
    dir = await tempDir('tus-kill');
    child = await start();
    const data = Buffer.from(bytes(30 * CHUNK + 321, 11));
    const chunkSize = 3 * CHUNK + 1000; // not a multiple of ours: PATCHes end mid-chunk
    let sentAtKill = -1;
    let sent = 0;
    let acked = 0;
    const killed = tusUpload(data, {
      endpoint: `${child.url}/v1/tus/`,
      headers: auth,
      metadata: { filename: 'killed.bin' },
      chunkSize,
      onChunkComplete: (_c, accepted) => (acked = accepted),
      // Killed in the middle of the 4th PATCH: 3 answered, part of one more sent.
      onProgress: (bytesSent) => {
        sent = Math.max(sent, bytesSent);
        if (sentAtKill < 0 && bytesSent >= 3 * chunkSize + 40_000) {
          sentAtKill = sent;
          child!.child.kill('SIGKILL');
        }
      },
    });
    await expect(killed).rejects.toThrow();
    const failure = (await killed.catch((e: unknown) => e)) as { originalRequest?: { getURL(): string } };
    const uploadUrl = new URL(failure.originalRequest?.getURL() ?? '');
    expect((await child.stop()).code).toBe(null); // killed, no clean shutdown
    // The kill lands while the 4th PATCH is sent or stored; its answer may have made it out first.
    expect(acked).toBeGreaterThanOrEqual(3 * chunkSize);

    child = await start(); // same store, maybe another port
    const url = `${child.url}${uploadUrl.pathname}`;
    const head = await tus(url, 'HEAD', {}, undefined, TOKEN);
    expect(head.status).toBe(200);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeGreaterThanOrEqual(acked); // every answered PATCH was durable
    expect(offset).toBeLessThanOrEqual(sent);

    let resumedAt = -1;
    const done = await tusUpload(data, {
      uploadUrl: url,
      headers: auth,
      chunkSize,
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH' && resumedAt < 0) resumedAt = Number(req.getHeader('Upload-Offset'));
      },
    });
    expect(resumedAt).toBe(offset);
    const body = await request(`${child.url}/v1/files/${done.fileId}`, { headers: auth });
    expect(body.body.equals(data)).toBe(true);
    const files = (await request(`${child.url}/v1/files`, { headers: auth })).json<{ files: { name: string; id: string }[] }>().files;
    expect(files).toEqual([expect.objectContaining({ name: 'killed.bin', id: done.fileId })]);
  });
});
