import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { httpDate } from '../../src/gateway/http/conditional.js';
import { planRanges } from '../../src/protocol/http-ranges.js';
import { bytes, CHUNK } from '../helpers/core.js';
import { request, testServerPerSuite, upload } from '../helpers/http-server.js';
import { chunked, rawExchange, RawConnection, requestText } from '../helpers/raw-http.js';

// Issue 20, "Protocol edges" 5–8: each against RFC 9110/9112 (and what nginx answers).
const t = testServerPerSuite();
let port: number;
let host: string;
let id: string;
let emptyId: string;
const content = bytes(3 * CHUNK + 77, 20);
beforeAll(async () => {
  port = t.running.port;
  host = `127.0.0.1:${port}`;
  id = (await upload(t.url, 'edges.bin', content)).id;
  emptyId = (await upload(t.url, 'empty.bin', Buffer.alloc(0))).id;
});

const names = async () => (await request(`${t.url}/v1/files`)).json<{ files: { name: string }[] }>().files.map((f) => f.name);

describe('5. transfer codings other than chunked', () => {
  it('PUT with Transfer-Encoding: gzip, chunked is 501 unsupported_transfer_coding naming gzip; nothing is stored', async () => {
    const body = chunked(gzipSync(Buffer.from('hello gzip')));
    const [r] = await rawExchange(
      port,
      requestText(
        'PUT /v1/files?name=gz.txt HTTP/1.1',
        [
          ['Host', host],
          ['Transfer-Encoding', 'gzip, chunked'],
          ['Connection', 'close'],
        ],
        body,
      ),
    );
    expect(r!.status).toBe(501);
    expect(r!.json().error.code).toBe('unsupported_transfer_coding');
    expect(r!.json().error.message).toContain('gzip');
    expect(await names()).not.toContain('gz.txt');
  });

  it('also on a tus creation with data, which answers with Tus-Resumable', async () => {
    const [r] = await rawExchange(
      port,
      requestText(
        'POST /v1/tus/ HTTP/1.1',
        [
          ['Host', host],
          ['Tus-Resumable', '1.0.0'],
          ['Upload-Length', 10],
          ['Content-Type', 'application/offset+octet-stream'],
          ['Transfer-Encoding', 'deflate,chunked'],
          ['Connection', 'close'],
        ],
        chunked(Buffer.from('0123456789')),
      ),
    );
    expect(r!.status).toBe(501);
    expect(r!.json().error).toMatchObject({ code: 'unsupported_transfer_coding', message: expect.stringContaining('deflate') });
    expect(r!.headers['tus-resumable']).toBe('1.0.0');
  });

  it('plain chunked still uploads', async () => {
    const [r] = await rawExchange(
      port,
      requestText(
        'PUT /v1/files?name=plain-chunked.txt HTTP/1.1',
        [
          ['Host', host],
          ['Transfer-Encoding', 'Chunked'],
          ['Connection', 'close'],
        ],
        chunked(Buffer.from('plain')),
      ),
    );
    expect(r!.status).toBe(201);
    expect(r!.json()).toMatchObject({ size: 5 });
  });
});

describe('6. If-Modified-Since / If-Unmodified-Since that are not HTTP-dates are ignored', () => {
  it.each(['2099', '1', '2099-01-01', 'tomorrow, 1 Jan 2099', 'Fri, 01 Jan 2099 00:00:00'])(
    'GET with If-Modified-Since: %s → 200',
    async (v) => {
      const r = await request(`${t.url}/v1/files/${id}`, { headers: { 'If-Modified-Since': v } });
      expect(r.status).toBe(200);
      expect(r.body.equals(content)).toBe(true);
    },
  );

  it.each(['1', '2000', '1999-12-31T00:00:00Z'])('GET and HEAD with If-Unmodified-Since: %s → 200', async (v) => {
    expect((await request(`${t.url}/v1/files/${id}`, { headers: { 'If-Unmodified-Since': v } })).status).toBe(200);
    expect((await request(`${t.url}/v1/files/${id}`, { method: 'HEAD', headers: { 'If-Unmodified-Since': v } })).status).toBe(200);
  });

  it('DELETE with If-Unmodified-Since: 1 deletes (204); a real past HTTP-date still refuses (412)', async () => {
    const doomed = (await upload(t.url, 'doomed.txt', Buffer.from('doomed'))).id;
    const past = 'Sat, 01 Jan 2000 00:00:00 GMT';
    expect((await request(`${t.url}/v1/files/${doomed}`, { method: 'DELETE', headers: { 'If-Unmodified-Since': past } })).status).toBe(412);
    expect((await request(`${t.url}/v1/files/${doomed}`, { method: 'DELETE', headers: { 'If-Unmodified-Since': '1' } })).status).toBe(204);
  });

  it('the three HTTP-date forms parse (RFC 9110 § 5.6.7); other shapes do not', () => {
    const s = Date.UTC(1994, 10, 6, 8, 49, 37) / 1000;
    expect(httpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(s);
    expect(httpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(s);
    expect(httpDate('Sun Nov  6 08:49:37 1994')).toBe(s);
    for (const bad of ['2099', '1', '1994-11-06T08:49:37Z', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:49:37 GMT', '']) {
      expect(httpDate(bad), bad).toBeUndefined();
    }
  });
});

describe('7. a suffix range of an empty file', () => {
  it('Range: bytes=-5 on an empty file is 200 with the empty body, not 416', async () => {
    const r = await request(`${t.url}/v1/files/${emptyId}`, { headers: { Range: 'bytes=-5' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('0');
    expect(r.body.length).toBe(0);
  });

  it('planRanges: a non-zero suffix of an empty file is the whole (empty) file; bytes=0- and bytes=-0 stay 416', () => {
    expect(planRanges('bytes=-5', 0)).toEqual({ kind: 'full' });
    expect(planRanges('bytes=0-,-1', 0)).toEqual({ kind: 'full' });
    expect(() => planRanges('bytes=0-', 0)).toThrow(expect.objectContaining({ code: 'range_not_satisfiable' }));
    expect(() => planRanges('bytes=-0', 0)).toThrow(expect.objectContaining({ code: 'range_not_satisfiable' }));
  });
});

const WS_HEADERS: [string, string][] = [
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
  ['Sec-WebSocket-Version', '13'],
];

describe('8. Host, absolute-form targets, CONNECT, half-close', () => {
  it('two Host headers are 400 (RFC 9112 § 3.2), also when both are allowed names', async () => {
    const [r] = await rawExchange(
      port,
      requestText(`GET /v1/files HTTP/1.1`, [
        ['Host', host],
        ['Host', 'localhost'],
        ['Connection', 'close'],
      ]),
    );
    expect(r!.status).toBe(400);
    expect(r!.json().error).toMatchObject({ code: 'bad_request', message: expect.stringContaining('Host') });
  });

  it('a WebSocket upgrade without Host, or with two, is 400 and never 101', async () => {
    for (const hosts of [[], [['Host', host] as [string, string], ['Host', host] as [string, string]]]) {
      const c = await RawConnection.open(port);
      c.write(requestText('GET /v1/ws HTTP/1.1', [...hosts, ...WS_HEADERS]));
      const [r] = await c.waitFor(1); // a 101 would keep the socket open: read one answer, then close
      c.close();
      expect(r!.status, JSON.stringify(hosts)).toBe(400);
      expect(r!.json().error.code).toBe('bad_request');
    }
  });

  it('an absolute-form target is judged by its own authority (RFC 9112 § 3.2.2), not by Host', async () => {
    const [evil] = await rawExchange(
      port,
      requestText(`GET http://evil.example/v1/files/${id} HTTP/1.1`, [
        ['Host', host],
        ['Connection', 'close'],
      ]),
    );
    expect(evil!.status).toBe(421);
    expect(evil!.json().error.code).toBe('misdirected');
    const c = await RawConnection.open(port);
    c.write(requestText(`GET http://evil.example/v1/ws HTTP/1.1`, [['Host', host], ...WS_HEADERS]));
    const [ws] = await c.waitFor(1);
    c.close();
    expect(ws!.status).toBe(421);
    // An allowed authority in the target is served, whatever Host says.
    const [ok] = await rawExchange(
      port,
      requestText(`GET http://${host}/v1/files/${id} HTTP/1.1`, [
        ['Host', 'evil.example'],
        ['Connection', 'close'],
      ]),
    );
    expect(ok!.status).toBe(200);
    expect(ok!.body.equals(content)).toBe(true);
  });

  it('CONNECT gets an answer: 405 with Connection: close', async () => {
    const [r] = await rawExchange(port, requestText('CONNECT evil.example:443 HTTP/1.1', [['Host', 'evil.example:443']]));
    expect(r!.status).toBe(405);
    expect(r!.headers.connection).toBe('close');
    expect(r!.json().error.code).toBe('method_not_allowed');
  });

  it('a client that half-closes after a full GET still gets the whole file, then the server ends the socket', async () => {
    const c = await RawConnection.open(port);
    c.write(requestText(`GET /v1/files/${id} HTTP/1.1`, [['Host', host]]));
    c.end();
    const [r] = await c.waitFor(1);
    expect(r!.status).toBe(200);
    expect(r!.body.equals(content)).toBe(true);
    await c.ended; // the server closes its side once it answered
    c.close();
  });

  it('a half-closed idle keep-alive connection is ended by the server', async () => {
    const c = await RawConnection.open(port);
    c.write(requestText('GET /healthz HTTP/1.1', [['Host', host]]));
    await c.waitFor(1);
    c.end();
    await c.ended;
    c.close();
  });
});
