import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, prettyLine } from '../../src/gateway/ops/log.js';
import { eventually } from '../helpers/eventually.js';
import { request, startTestServer, type TestServer } from '../helpers/http-server.js';
import { memoryLog, parseMetrics, sample } from '../helpers/ops.js';
import { rawExchange, RawConnection, requestText } from '../helpers/raw-http.js';

// Issue 20, "Protocol edges" 10–12: the metrics port's guard, the Origin's scheme, refusals logged.
const TOKEN = 'guard-log-token';
const auth = { Authorization: `Bearer ${TOKEN}` };
const log = memoryLog();
const pretty: string[] = [];
let t: TestServer;
let p: TestServer; // logs --log-format pretty
let port: number;
let host: string;
beforeAll(async () => {
  t = await startTestServer({ tokens: [TOKEN], server: { metricsPort: 0, logger: log.logger } });
  p = await startTestServer({
    server: { logger: createLogger({ format: 'pretty', destination: { write: (s: string) => void pretty.push(s) } }) },
  });
  port = t.running.port;
  host = `127.0.0.1:${port}`;
});
afterAll(async () => {
  await t?.close();
  await p?.close();
});

const WS_HEADERS: [string, string][] = [
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
  ['Sec-WebSocket-Version', '13'],
];

// eslint-disable-next-line no-control-regex -- what must never reach a terminal raw
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202e]/;

/** The first answer to an upgrade (a 101 would keep the socket open, so the socket is closed after it). */
async function upgrade(headers: [string, string][], target = '/v1/ws', p = port) {
  const c = await RawConnection.open(p);
  c.write(requestText(`GET ${target} HTTP/1.1`, [...headers, ...WS_HEADERS]));
  const [r] = await c.waitFor(1);
  c.close();
  return r!;
}

describe('10. the --metrics-port listener has the API port guard', () => {
  it('a foreign Host (DNS rebinding) is 421, an absolute-form foreign target too, two Hosts 400; loopback is served', async () => {
    const mport = Number(new URL(t.running.metricsUrl!).port);
    const get = async (line: string, hosts: string[]) =>
      (await rawExchange(mport, requestText(line, [...hosts.map((h): [string, string] => ['Host', h]), ['Connection', 'close']])))[0]!;
    expect((await get('GET /metrics HTTP/1.1', [`evil.example:${mport}`])).status).toBe(421);
    expect((await get('GET http://evil.example/metrics HTTP/1.1', [`127.0.0.1:${mport}`])).status).toBe(421);
    expect((await get('GET /metrics HTTP/1.1', [`127.0.0.1:${mport}`, `127.0.0.1:${mport}`])).status).toBe(400);
    const ok = await get('GET /metrics HTTP/1.1', [`127.0.0.1:${mport}`]);
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toContain('chunkstream_http_requests_total');
  });
});

describe('11. the Origin check compares the scheme', () => {
  it('Origin https://127.0.0.1:PORT on this http listener is cross-origin: 403 on HTTP and WebSocket', async () => {
    const r = await request(`${t.url}/v1/files`, { headers: { ...auth, Origin: `https://${host}` } });
    expect(r.status).toBe(403);
    expect(r.json().error.code).toBe('forbidden');
    expect(
      (
        await upgrade([
          ['Host', host],
          ['Origin', `https://${host}`],
        ])
      ).status,
    ).toBe(403);
  });

  it('the same page over http is same-origin; behind a TLS proxy (X-Forwarded-Proto: https) the https page is', async () => {
    expect((await request(`${t.url}/v1/files`, { headers: { ...auth, Origin: `http://${host}` } })).status).toBe(200);
    const proxied = await request(`${t.url}/v1/files`, { headers: { ...auth, Origin: `https://${host}`, 'X-Forwarded-Proto': 'https' } });
    expect(proxied.status).toBe(200);
    expect(
      (await request(`${t.url}/v1/files`, { headers: { ...auth, Origin: `http://${host}`, 'X-Forwarded-Proto': 'https' } })).status,
    ).toBe(403);
  });
});

describe('12. refusals are logged and counted; tus refusals speak tus; pretty lines escape controls', () => {
  const wsRequests = async (status: number) =>
    sample(parseMetrics(await t.running.metrics.text()), 'chunkstream_http_requests_total', {
      method: 'GET',
      route: '/v1/ws',
      status: String(status),
    });

  it.each([
    [
      '401 for a bad token',
      [
        ['Host', 'HOST'],
        ['Authorization', 'Bearer wrong'],
      ],
      401,
      'unauthorized',
    ],
    [
      '403 for a foreign Origin',
      [
        ['Host', 'HOST'],
        ['Origin', 'http://evil.example'],
      ],
      403,
      'forbidden',
    ],
    ['421 for a foreign Host', [['Host', 'evil.example']], 421, 'misdirected'],
    ['400 without Host', [], 400, 'bad_request'],
  ] as [string, [string, string][], number, string][])(
    'a refused upgrade (%s) has an access line and a metric',
    async (_what, headers, status, code) => {
      const before = await wsRequests(status);
      const id = `refused-${status}`;
      const r = await upgrade([...headers.map(([k, v]): [string, string] => [k, v === 'HOST' ? host : v]), ['X-Request-Id', id]]);
      expect(r.status).toBe(status);
      const line = await eventually(() => log.records().find((l) => l.reqId === id), 'the access line');
      expect(line).toMatchObject({ kind: 'http', method: 'GET', route: '/v1/ws', status, code, remote: '127.0.0.1' });
      expect(await wsRequests(status)).toBe(before + 1);
    },
  );

  it('tus answers of 401, 403 and 421 carry Tus-Resumable: 1.0.0', async () => {
    const tus = { 'Tus-Resumable': '1.0.0', 'Upload-Length': '5' };
    const noToken = await request(`${t.url}/v1/tus/`, { method: 'POST', headers: tus });
    expect(noToken.status).toBe(401);
    expect(noToken.headers['tus-resumable']).toBe('1.0.0');
    const foreign = await request(`${t.url}/v1/tus/`, { method: 'POST', headers: { ...tus, ...auth, Origin: 'http://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers['tus-resumable']).toBe('1.0.0');
    const [rebound] = await rawExchange(
      port,
      requestText(`DELETE /v1/tus/${'0'.repeat(16)} HTTP/1.1`, [
        ['Host', 'evil.example'],
        ['Tus-Resumable', '1.0.0'],
        ['Connection', 'close'],
      ]),
    );
    expect(rebound!.status).toBe(421);
    expect(rebound!.headers['tus-resumable']).toBe('1.0.0');
  });

  it('prettyLine writes C0, DEL and C1 characters of any field escaped', () => {
    const evil = '1.2.3.4\u009b2J\u001b]0;pwned\u0007\u007f\u0085\u202e';
    const line = prettyLine(JSON.stringify({ time: 't', level: 'info', msg: `GET /x\u009d 200`, forwardedFor: evil, url: evil }));
    expect(line.slice(0, -1)).not.toMatch(CONTROL);
    expect(line).toContain('\\x9b2J');
    expect(line).toContain('/x\\x9d');
    expect(line.endsWith('\n')).toBe(true);
  });

  it('a server logging pretty lines writes no raw control character from X-Forwarded-For or the target', async () => {
    // Bytes 0x80–0xFF are legal in a field value (obs-text) and arrive as U+0080–U+00FF; DEL is refused by Node's parser.
    const xff = Buffer.from([0x31, 0x9b, 0x32, 0x4a, 0x85, 0x9d]).toString('latin1');
    await rawExchange(
      p.running.port,
      requestText('GET /v1/files?q=%9b HTTP/1.1', [
        ['Host', `127.0.0.1:${p.running.port}`],
        ['X-Forwarded-For', xff],
        ['Connection', 'close'],
      ]),
    );
    const line = await eventually(() => pretty.find((l) => l.includes('forwardedFor=')), 'the access line');
    expect(line.slice(0, -1)).not.toMatch(CONTROL);
    expect(line).toContain('forwardedFor=1\\x9b2J\\x85\\x9d');
  });
});
