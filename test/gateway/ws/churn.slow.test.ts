import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeFrame, FrameType } from '../../../src/protocol/frames.js';
import { eventually } from '../../helpers/eventually.js';
import { request, startTestServer, upload, type TestServer } from '../../helpers/http-server.js';

// Connections that vanish at every stage (mid-handshake, mid-upload, mid-download, after
// garbage): afterwards nothing may be held, no connection tracked, and the server still serves.
let t: TestServer;
let id: string;
const data = Buffer.alloc(300_000, 4);
beforeAll(async () => {
  t = await startTestServer();
  id = (await upload(t.url, 'churn.bin', data)).id;
});
afterAll(() => t.close());

const wsUrl = () => `${t.url.replace('http', 'ws')}/v1/ws`;

/** One hostile session; `kind` picks when it drops. Resolves once its socket closed. */
function session(kind: number): Promise<void> {
  if (kind === 0) {
    // Half a handshake on a raw socket, then a reset.
    return new Promise((resolve) => {
      const s = net.connect(t.running.port, '127.0.0.1', () => {
        s.write('GET /v1/ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n');
        s.resetAndDestroy();
      });
      s.on('error', () => undefined).on('close', () => resolve());
    });
  }
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl());
    ws.on('error', () => undefined).on('close', () => resolve());
    ws.on('message', (d, binary) => {
      const m = binary ? undefined : JSON.parse((d as Buffer).toString());
      if (m?.type === 'ready') {
        if (kind === 1) ws.send(JSON.stringify({ type: 'download', stream: 1, id, credit: 1 }));
        if (kind === 2) ws.send(JSON.stringify({ type: 'upload', stream: 1, name: 'part.bin' }));
        if (kind === 3) {
          ws.send('{"type":"credit","stream":1,"chunks":1e400}');
          ws.send(Buffer.from([1, 1, 0]));
          ws.send(JSON.stringify({ type: 'download', stream: 5, id, credit: 1_000_000 }));
          ws.send(JSON.stringify({ type: 'cancel', stream: 99 }));
          ws.terminate();
        }
      }
      if (binary) ws.terminate(); // first chunk arrived: drop with the download in flight
      if (m?.type === 'started') {
        ws.send(encodeFrame(FrameType.UPLOAD_DATA, 1, 0, data.subarray(0, 100_000)));
        ws.terminate(); // mid-upload
      }
    });
  });
}

describe('WebSocket churn', () => {
  it('400 sessions dropped at every stage leave nothing held and no connection tracked', async () => {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < 400; i = next++) await session(i % 4);
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    // Teardown after 'close' is asynchronous (aborted reads settle).
    await eventually(() => t.store.gauge.held === 0, 'the dropped sessions to release their bytes');
    const connections = () =>
      new Promise<number>((resolve, reject) => t.running.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
    await eventually(async () => (await connections()) === 0, 'the server to track no connection');
    expect((await request(`${t.url}/healthz`)).status).toBe(200);
    expect((await t.store.list()).map((f) => f.name)).toEqual(['churn.bin']);
    const back = await request(`${t.url}/v1/files/${id}`);
    expect(Buffer.compare(back.body, data)).toBe(0);
  });
});
