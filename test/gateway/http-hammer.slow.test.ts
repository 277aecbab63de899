import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.js';
import { request, upload, testServerPerSuite } from '../helpers/http-server.js';

// 2000 malformed, truncated or abandoned requests on raw sockets: the server must stay up,
// answer healthz, hold no bytes and keep the one good file intact.
const t = testServerPerSuite();

type Probe = { bytes: string | Buffer; cut?: boolean };

function probes(id: string, port: number): Probe[] {
  const h = `Host: 127.0.0.1:${port}\r\n`;
  return [
    { bytes: `GET /v1/files/%zz HTTP/1.1\r\n${h}\r\n` },
    { bytes: `GET /v1/files/..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\n${h}\r\n` },
    { bytes: `GET http://evil.example/v1/files HTTP/1.1\r\n${h}\r\n` },
    { bytes: `GET //v1//files HTTP/1.1\r\n${h}\r\n` },
    { bytes: `GET /v1/files/${id} HTTP/1.1\r\n${h}Range: bytes=5-2\r\n\r\n` },
    { bytes: `GET /v1/files/${id} HTTP/1.1\r\n${h}Range: bytes=0-1,2-3,x\r\n\r\n` },
    { bytes: `GET /v1/files/${id} HTTP/1.1\r\n${h}Range: bytes=0-\r\nIf-Range: W/"x"\r\n\r\n`, cut: true },
    { bytes: `GET /v1/files/${id} HTTP/1.1\r\n${h}If-None-Match: W/"a", , ,\r\n\r\n` },
    { bytes: `HEAD /v1/files/${id}/meta HTTP/1.1\r\n${h}\r\n` },
    { bytes: `OPTIONS /v1/files HTTP/1.1\r\n${h}\r\n` },
    { bytes: `DELETE /v1/files HTTP/1.1\r\n${h}\r\n` },
    { bytes: `PUT /v1/files?name=a HTTP/1.1\r\n${h}Content-Length: 10\r\n\r\nabc`, cut: true },
    { bytes: `PUT /v1/files?name=b HTTP/1.1\r\n${h}Content-Length: -1\r\n\r\n` },
    { bytes: `PUT /v1/files?name=c HTTP/1.1\r\n${h}Content-Length: 1e3\r\n\r\n` },
    { bytes: `PUT /v1/files?name=d HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n` },
    { bytes: `PUT /v1/files?name=e HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n5\r\nabc`, cut: true },
    { bytes: `PUT /v1/files?name=f HTTP/1.1\r\n${h}Content-Length: 3\r\nX-Content-SHA256: ${'0'.repeat(64)}\r\n\r\nabc` },
    { bytes: `PUT /v1/files?name=%ff%fe HTTP/1.1\r\n${h}Content-Length: 100000\r\n\r\n${'x'.repeat(70000)}`, cut: true },
    { bytes: `PUT /v1/files?name=${'n'.repeat(300)} HTTP/1.1\r\n${h}Content-Length: 1\r\n\r\nx` },
    { bytes: `POST /v1/gc?graceMs=-5 HTTP/1.1\r\n${h}\r\n` },
    { bytes: `GET /v1/ws HTTP/1.1\r\n${h}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: bad\r\n\r\n` },
    { bytes: `GET /v1/files HTTP/1.1\r\n${h}Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n` },
    { bytes: `GET /v1/files HTTP/1.1\r\n${h}X-Big: ${'y'.repeat(20000)}\r\n\r\n` },
    { bytes: Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]) },
  ];
}

/** Sends one probe on its own socket; resolves once the socket closed (server or we cut it). */
function fire(port: number, p: Probe): Promise<void> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.on('close', () => resolve());
    sock.on('connect', () => {
      sock.write(p.bytes);
      if (p.cut)
        sock.destroy(); // abandon mid-request
      else sock.end(); // half-close: the server answers, then closes
    });
    sock.resume();
  });
}

describe('HTTP hammer', () => {
  it('2000 hostile requests leave the server up, nothing held, the good file intact', async () => {
    const data = Buffer.alloc(200_000, 9);
    const good = await upload(t.url, 'good.bin', data);
    const all = probes(good.id, t.running.port);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < 2000; i = next++) await fire(t.running.port, all[i % all.length]!);
    };
    await Promise.all(Array.from({ length: 16 }, worker));

    expect((await request(`${t.url}/healthz`)).json()).toEqual({ ok: true });
    // Aborted transfers release asynchronously (teardown after 'close').
    await eventually(() => t.store.gauge.held === 0, 'the aborted transfers to release their bytes');
    const names = (await t.store.list()).map((f) => f.name).sort();
    expect(names).toEqual(['good.bin']);
    const back = await request(`${t.url}/v1/files/${good.id}`);
    expect(back.status).toBe(200);
    expect(Buffer.compare(back.body, data)).toBe(0);
  });
});
