import { readFile } from 'node:fs/promises';
import path from 'node:path';
import WebSocket from 'ws';
import { beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../../src/client/index.js';
import { prettyLine, redactTarget } from '../../../src/gateway/ops/log.js';
import { startServer } from '../../../src/gateway/server.js';
import { bytes, closeAfterEach, tempDir, CHUNK } from '../../helpers/core.js';
import { assertBuilt, serve } from '../../helpers/http-cli.js';
import { request, upload } from '../../helpers/http-server.js';
import { memoryLog } from '../../helpers/ops.js';
import { eventually } from '../../helpers/eventually.js';
import { collect } from '../../helpers/ws-harness.js';

const TOKEN = 'access-log-secret-token';
const auth = { Authorization: `Bearer ${TOKEN}` };
const open = closeAfterEach();

async function start() {
  const log = memoryLog();
  const s = open.add(
    await startServer({ dir: await tempDir(), port: 0, host: '127.0.0.1', chunkSize: CHUNK, tokens: [TOKEN], logger: log.logger }),
  );
  return { s, log };
}

/** Every line is one JSON object with a level, an ISO time and a message; none holds a secret. */
function checkLines(lines: string[], secrets: string[]) {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    expect(line.endsWith('\n')).toBe(true);
    const o = JSON.parse(line);
    expect(o).toMatchObject({ level: expect.any(String), time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), msg: expect.any(String) });
    for (const secret of secrets) expect(line).not.toContain(secret);
  }
}

const httpLines = (records: Record<string, any>[], route: string) => records.filter((r) => r.kind === 'http' && r.route === route);

describe('access log', () => {
  it('one JSON line per HTTP request: a GET, a failed PUT, a refused token; X-Request-Id sent back (or kept from a proxy)', async () => {
    const { s, log } = await start();
    const data = bytes(3 * CHUNK + 7, 2);
    const file = await upload(s.url, 'a.bin', data, auth);
    const got = await request(`${s.url}/v1/files/${file.id}`, { headers: { ...auth, 'X-Request-Id': 'proxy-trace-42' } });
    expect(got.status).toBe(200);
    expect(got.headers['x-request-id']).toBe('proxy-trace-42');
    const bad = await request(`${s.url}/v1/files?name=b.bin`, {
      method: 'PUT',
      headers: { ...auth, 'X-Content-SHA256': '0'.repeat(64) },
      body: bytes(100, 9),
    });
    expect(bad.status).toBe(400);
    const refused = await request(`${s.url}/v1/files`, { headers: { Authorization: 'Bearer not-the-token-xyz' } });
    expect(refused.status).toBe(401);
    const odd = await request(`${s.url}/healthz`, { headers: { 'X-Request-Id': 'bad id with spaces\u00e9' } });
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await eventually(() => httpLines(log.records(), '/v1/files').length === 3, 'the lines of the responses');

    checkLines(log.lines, [TOKEN, 'not-the-token-xyz']);
    const records = log.records();
    const get = httpLines(records, '/v1/files/:id')[0];
    expect(get).toMatchObject({
      level: 'info',
      reqId: 'proxy-trace-42',
      method: 'GET',
      url: `/v1/files/${file.id}`,
      status: 200,
      protocol: 'http',
      bytes: data.length,
      remote: '127.0.0.1',
    });
    expect(get!.bytesSent).toBeGreaterThan(data.length); // the headers too
    expect(get!.ms).toEqual(expect.any(Number));
    const [put, failed, unauthorized] = httpLines(records, '/v1/files');
    expect(put).toMatchObject({ method: 'PUT', status: 201, bytes: data.length, url: '/v1/files?name=a.bin' });
    expect(put!.reqId).toMatch(/^[0-9a-f-]{36}$/);
    expect(failed).toMatchObject({ method: 'PUT', status: 400, code: 'bad_request', bytes: 100 });
    expect(unauthorized).toMatchObject({ method: 'GET', status: 401, code: 'unauthorized' });
    // Probes are logged too, at debug (they come every few seconds).
    expect(httpLines(records, '/healthz')[0]).toMatchObject({ level: 'debug', status: 200 });
  });

  it('a signed-link download is logged without its signature', async () => {
    const { s, log } = await start();
    const file = await upload(s.url, 'shared.txt', bytes(1000, 4), auth);
    const link = (
      await request(`${s.url}/v1/files/${file.id}/links`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: Buffer.from('{"expiresIn":600}'),
      })
    ).json<{ url: string }>();
    const sig = new URL(link.url).searchParams.get('sig')!;
    expect(sig.length).toBeGreaterThan(20);
    expect((await request(link.url)).status).toBe(200);
    await eventually(() => httpLines(log.records(), '/v1/files/:id').length === 1, 'the download line');
    checkLines(log.lines, [TOKEN, sig]);
    const line = httpLines(log.records(), '/v1/files/:id')[0];
    expect(line!.url).toMatch(new RegExp(`^/v1/files/${file.id}\\?expires=\\d+&sig=\\[redacted\\]$`));
    expect(line).toMatchObject({ status: 200, bytes: 1000 });
  });

  it('one line per WebSocket stream (download, list, a refused one) and one when the connection closes; the token never appears', async () => {
    const { s, log } = await start();
    const data = bytes(4 * CHUNK + 1, 6);
    const file = await upload(s.url, 'w.bin', data, auth);
    // The id of the connection comes back on the 101 answer.
    const upgradeId = new Promise<string>((resolve) => {
      const probe = new WebSocket(`${s.url.replace('http', 'ws')}/v1/ws`, { headers: { ...auth, 'X-Request-Id': 'ws-conn-1' } });
      probe.on('upgrade', (res) => resolve(String(res.headers['x-request-id'])));
      probe.on('open', () => probe.close());
    });
    expect(await upgradeId).toBe('ws-conn-1');
    const client = await connect(`${s.url.replace('http', 'ws')}/v1/ws`, { token: TOKEN }); // the token in the first message
    try {
      expect((await collect(client.download(file.id))).length).toBe(data.length);
      expect((await client.list()).length).toBe(1);
      await expect(client.stat('0'.repeat(29))).rejects.toMatchObject({ code: 'not_found' });
    } finally {
      await client.close();
    }
    const ws = () => log.records().filter((r) => r.kind === 'ws');
    await eventually(() => ws().filter((r) => r.type === 'close').length === 2, 'both connections closed');
    checkLines(log.lines, [TOKEN]);
    const download = ws().find((r) => r.type === 'download')!;
    expect(download).toMatchObject({ level: 'info', outcome: 'ok', bytes: data.length, stream: expect.any(Number), remote: '127.0.0.1' });
    expect(download.reqId).toEqual(expect.any(String));
    expect(ws().find((r) => r.type === 'list')).toMatchObject({ outcome: 'ok' });
    expect(ws().find((r) => r.type === 'stat')).toMatchObject({ outcome: 'error', code: 'not_found' });
    expect(ws().find((r) => r.type === 'close' && r.reqId === download.reqId)).toMatchObject({ streams: 3 });
  });

  it('redacts credentials in query strings and formats pretty lines', () => {
    expect(redactTarget('/v1/files/x?expires=1&sig=abc')).toBe('/v1/files/x?expires=1&sig=[redacted]');
    expect(redactTarget('/a?token=t&name=n&SIG=s&access_token=q')).toBe(
      '/a?token=[redacted]&name=n&SIG=[redacted]&access_token=[redacted]',
    );
    expect(redactTarget('/a?si%67=s')).toBe('/a?si%67=[redacted]');
    const line = JSON.stringify({
      level: 'info',
      time: '2025-01-02T03:04:05.678Z',
      msg: 'GET /v1/files 200',
      kind: 'http',
      method: 'GET',
      ms: 1.5,
      route: '/v1/files',
      remote: '::1',
    });
    expect(prettyLine(line)).toBe('2025-01-02T03:04:05.678Z INFO  GET /v1/files 200 ms=1.5 route=/v1/files remote=::1\n');
  });
});

describe('serve log flags', () => {
  beforeAll(assertBuilt);

  it('--log-file gets JSON lines; --log-format pretty writes people-readable lines to stderr', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'logs', 'access.log');
    const json = await serve(['--port', '0', '--dir', path.join(dir, 'a'), '--log-file', file]);
    expect((await request(`${json.url}/v1/files`)).status).toBe(200);
    expect((await json.stop()).code).toBe(0);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const records = lines.map((l) => JSON.parse(l));
    expect(records.find((r) => r.route === '/v1/files')).toMatchObject({ level: 'info', method: 'GET', status: 200 });
    expect(records.at(-1)).toMatchObject({ msg: 'stopped' });

    const pretty = await serve(['--port', '0', '--dir', path.join(dir, 'b'), '--log-format', 'pretty'], { CHUNKSTREAM_LOG_LEVEL: 'debug' });
    expect((await request(`${pretty.url}/healthz`)).status).toBe(200);
    const { stderr } = await pretty.stop();
    expect(stderr).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z DEBUG GET \/healthz 200 reqId=\S+ route=\/healthz /m);
  });
});

describe('route labels', () => {
  it('come from the route table: every file of the web page is `web` (hash-worker.js too), tus and probes by template, the rest `other`', async () => {
    const { s, log } = await start();
    const paths = [
      '/',
      '/hash-worker.js',
      '/client.js',
      '/config.json',
      '/healthz',
      '/v1/tus/',
      '/v1/tus/abc',
      '/v1/uploads/x',
      '/nowhere',
    ];
    for (const p of paths) await request(`${s.url}${p}`, { headers: auth });
    await eventually(() => log.records().filter((r) => r.kind === 'http').length === paths.length, 'a line per request');
    const labels = Object.fromEntries(log.records().map((r) => [r.url, r.route]));
    expect(labels).toEqual({
      '/': 'web',
      '/hash-worker.js': 'web',
      '/client.js': 'web',
      '/config.json': 'web',
      '/healthz': '/healthz',
      '/v1/tus/': '/v1/tus/',
      '/v1/tus/abc': '/v1/tus/:id',
      '/v1/uploads/x': '/v1/uploads/:id',
      '/nowhere': 'other',
    });
  });
});
