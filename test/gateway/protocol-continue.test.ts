import { beforeAll, describe, expect, it } from 'vitest';
import { request, testServerPerSuite } from '../helpers/http-server.js';
import { RawConnection, requestText } from '../helpers/raw-http.js';

// Issue 20, "Protocol edges" 9: decide first, then invite the body with 100 Continue.
const TOKEN = 'continue-token';
const t = testServerPerSuite({
  tokens: [TOKEN],
  store: { maxFileSize: 1000 },
  server: { maxTransferBytes: 9 * 64 * 1024 } /* the least: one upload fits, a second does not */,
});
let port: number;
let host: string;
beforeAll(() => {
  port = t.running.port;
  host = `127.0.0.1:${port}`;
});

/** Sends only the head of a request that expects 100-continue; resolves with the first answer and the connection. */
async function expecting(line: string, headers: [string, string | number][]) {
  const c = await RawConnection.open(port);
  c.write(requestText(line, [['Host', host], ['Expect', '100-continue'], ...headers]));
  const [first] = await c.waitFor(1);
  return { c, first: first! };
}

const auth: [string, string] = ['Authorization', `Bearer ${TOKEN}`];

describe('9. Expect: 100-continue', () => {
  it.each([
    ['401 without a token', 'PUT /v1/files?name=a.bin HTTP/1.1', [['Content-Length', 500]], 401, 'unauthorized'],
    [
      '403 from a foreign page',
      'PUT /v1/files?name=a.bin HTTP/1.1',
      [auth, ['Origin', 'http://evil.example'], ['Content-Length', 500]],
      403,
      'forbidden',
    ],
    ['413 past maxFileSize', 'PUT /v1/files?name=a.bin HTTP/1.1', [auth, ['Content-Length', 5_000_000]], 413, 'too_large'],
    ['400 for a missing name', 'PUT /v1/files HTTP/1.1', [auth, ['Content-Length', 500]], 400, 'bad_request'],
    [
      '404 for a tus PATCH of an unknown upload',
      `PATCH /v1/tus/${'0'.repeat(16)} HTTP/1.1`,
      [
        auth,
        ['Tus-Resumable', '1.0.0'],
        ['Upload-Offset', 0],
        ['Content-Type', 'application/offset+octet-stream'],
        ['Content-Length', 500],
      ],
      404,
      'not_found',
    ],
    [
      '412 for a tus PATCH without Tus-Resumable',
      `PATCH /v1/tus/${'0'.repeat(16)} HTTP/1.1`,
      [auth, ['Upload-Offset', 0], ['Content-Type', 'application/offset+octet-stream'], ['Content-Length', 500]],
      412,
      'precondition_failed',
    ],
  ] as [string, string, [string, string | number][], number, string][])(
    '%s: the final status comes first, never 100, and the body is not awaited',
    async (_what, line, headers, status, code) => {
      const { c, first } = await expecting(line, headers);
      expect(first.status).toBe(status);
      expect(first.json().error.code).toBe(code);
      expect(first.headers.connection).toBe('close'); // the unread body is not waited for
      await c.ended;
      c.close();
      expect(c.received.toString('latin1')).not.toContain('100 Continue');
    },
  );

  it('an accepted PUT gets 100 Continue before its body, then 201', async () => {
    const { c, first } = await expecting('PUT /v1/files?name=continued.txt HTTP/1.1', [
      auth,
      ['Content-Length', 5],
      ['Connection', 'close'],
    ]);
    expect(first.status).toBe(100);
    c.write('hello');
    const [, done] = await c.waitFor(2);
    expect(done!.status).toBe(201);
    expect(done!.json()).toMatchObject({ name: 'continued.txt', size: 5 });
    c.close();
  });

  it('busy is decided before 100 too: a second upload while the budget is held gets 503 and no invitation', async () => {
    // Of unknown size (chunked), so each reserves the full upload bound: a declared 10 bytes would reserve one chunk.
    const held = await expecting('PUT /v1/files?name=held.txt HTTP/1.1', [auth, ['Transfer-Encoding', 'chunked']]);
    expect(held.first.status).toBe(100); // it holds its reservation while its body is awaited
    const { c, first } = await expecting('PUT /v1/files?name=refused.txt HTTP/1.1', [auth, ['Transfer-Encoding', 'chunked']]);
    expect(first.status).toBe(503);
    expect(first.json().error.code).toBe('busy');
    c.close();
    held.c.write('a\r\n0123456789\r\n0\r\n\r\n');
    const [, done] = await held.c.waitFor(2);
    expect(done!.status).toBe(201);
    held.c.close();
    const names = (await request(`${t.url}/v1/files`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json<{
      files: { name: string }[];
    }>();
    expect(names.files.map((f) => f.name)).not.toContain('refused.txt');
  });
});
