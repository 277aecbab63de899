import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK, request, socketPair, startTestServer, upload, type Reply, type TestServer } from '../helpers/http-server.js';

const N = 2;
let t: TestServer;
const size = 6 * CHUNK + 123;
const data = randomBytes(size);
let id: string;
beforeAll(async () => {
  t = await startTestServer({ downloadConcurrency: N });
  id = (await upload(t.url, 'data.txt', data)).id;
});
afterAll(() => t?.close());

interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * A strict multipart/byteranges parser (RFC 2046 § 5.1.1): delimiters are CRLF--boundary, the
 * first may follow an empty preamble, the last is --boundary--. Throws on anything else, so a
 * framing mistake (a missing CRLF, a wrong Content-Length) fails the test.
 */
function parseMultipart(r: Reply): Part[] {
  const m = /^multipart\/byteranges; boundary=([0-9A-Za-z'()+_,./:=?-]{1,70})$/.exec(String(r.headers['content-type']));
  if (!m) throw new Error(`not multipart/byteranges: ${r.headers['content-type']}`);
  expect(Number(r.headers['content-length'])).toBe(r.body.length);
  const delimiter = Buffer.from(`\r\n--${m[1]}`);
  const parts: Part[] = [];
  let at = r.body.indexOf(delimiter);
  if (at !== 0) throw new Error(`preamble of ${at} bytes`);
  for (;;) {
    at += delimiter.length;
    if (r.body.subarray(at, at + 4).toString() === '--\r\n') {
      if (at + 4 !== r.body.length) throw new Error('bytes after the close delimiter');
      return parts;
    }
    if (r.body.subarray(at, at + 2).toString() !== '\r\n') throw new Error(`no CRLF after a delimiter at ${at}`);
    const headEnd = r.body.indexOf('\r\n\r\n', at + 2);
    const headers = Object.fromEntries(
      r.body
        .subarray(at + 2, headEnd)
        .toString('latin1')
        .split('\r\n')
        .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    const next = r.body.indexOf(delimiter, headEnd + 4);
    if (next < 0) throw new Error('no close delimiter');
    parts.push({ headers, body: r.body.subarray(headEnd + 4, next) });
    at = next;
  }
}

/** Each part is exactly the file's bytes of its Content-Range; returns the spans. */
function checkParts(parts: Part[]): [number, number][] {
  return parts.map((p) => {
    expect(p.headers['content-type']).toBe('text/plain');
    const [, a, b, total] = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(p.headers['content-range']!)!.map(Number);
    expect(total).toBe(size);
    expect(p.body.equals(data.subarray(a, b! + 1))).toBe(true); // byte by byte
    return [a!, b!];
  });
}

const get = (range: string, method = 'GET') => request(`${t.url}/v1/files/${id}`, { method, headers: { Range: range } });

describe('several ranges → 206 multipart/byteranges', () => {
  it('disjoint ranges across chunk boundaries, a suffix and an open range: one part each, byte for byte', async () => {
    const r = await get(`bytes=10-20, ${CHUNK - 5}-${2 * CHUNK + 5}, ${4 * CHUNK}-${4 * CHUNK}, -7`);
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBeUndefined();
    expect(checkParts(parseMultipart(r))).toEqual([
      [10, 20],
      [CHUNK - 5, 2 * CHUNK + 5],
      [4 * CHUNK, 4 * CHUNK],
      [size - 7, size - 1],
    ]);
    expect(t.running.budget.reserved).toBe(0);
    expect(t.store.gauge.held).toBe(0);
  });

  it('each chunk is read once per request: many ranges in one chunk, ranges meeting in a chunk, far-apart ranges', async () => {
    const reads = async (range: string, expected: [number, number][]) => {
      const before = t.reads.started;
      expect(checkParts(parseMultipart(await get(range)))).toEqual(expected);
      return t.reads.started - before;
    };
    // 20 one-byte ranges inside chunk 1: one read, not twenty.
    const tiny = Array.from({ length: 20 }, (_, i) => CHUNK + 100 * i);
    expect(
      await reads(
        `bytes=${tiny.map((b) => `${b}-${b}`).join(',')}`,
        tiny.map((b) => [b, b]),
      ),
    ).toBe(1);
    // Ranges that end and begin in chunks 1, 2 and 3: chunks 1..3, each once.
    expect(
      await reads(`bytes=${CHUNK + 1}-${2 * CHUNK + 5},${2 * CHUNK + 9}-${2 * CHUNK + 20},${3 * CHUNK - 1}-${3 * CHUNK + 2}`, [
        [CHUNK + 1, 2 * CHUNK + 5],
        [2 * CHUNK + 9, 2 * CHUNK + 20],
        [3 * CHUNK - 1, 3 * CHUNK + 2],
      ]),
    ).toBe(3);
    // Far apart: only the chunks touched (0 and 5), nothing in between.
    expect(
      await reads(`bytes=0-1,${5 * CHUNK + 3}-${5 * CHUNK + 4}`, [
        [0, 1],
        [5 * CHUNK + 3, 5 * CHUNK + 4],
      ]),
    ).toBe(2);
    expect(t.store.gauge.held).toBe(0);
  });

  it('overlapping and adjacent ranges are coalesced, out-of-order ones sent ascending', async () => {
    const r = await get(`bytes=${3 * CHUNK}-${3 * CHUNK + 9}, 0-4, 3-8, 9-9, ${3 * CHUNK + 5}-${3 * CHUNK + 20}`);
    expect(checkParts(parseMultipart(r))).toEqual([
      [0, 9],
      [3 * CHUNK, 3 * CHUNK + 20],
    ]);
  });

  it('ranges that coalesce into one are a plain 206; unsatisfiable ones are dropped', async () => {
    const one = await get('bytes=0-9,5-19,20-29');
    expect(one.status).toBe(206);
    expect(one.headers['content-range']).toBe(`bytes 0-29/${size}`);
    expect(one.body.equals(data.subarray(0, 30))).toBe(true);
    const dropped = await get(`bytes=${size + 5}-, 1-2, 100-101`);
    expect(checkParts(parseMultipart(dropped))).toEqual([
      [1, 2],
      [100, 101],
    ]);
    expect((await get(`bytes=${size}-,${size + 10}-`)).status).toBe(416);
  });

  it('more than 64 parts after coalescing → the Range is ignored: 200 with the whole file', async () => {
    const many = Array.from({ length: 65 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',');
    const r = await get(`bytes=${many}`);
    expect(r.status).toBe(200);
    expect(r.body.equals(data)).toBe(true);
    const sixtyFour = await get(`bytes=${many.split(',').slice(0, 64).join(',')}`);
    expect(parseMultipart(sixtyFour)).toHaveLength(64);
  });

  it('HEAD: the same status and Content-Length, no body, no chunk read', async () => {
    const range = `bytes=0-0,${2 * CHUNK}-${3 * CHUNK}`;
    const before = t.reads.started;
    const head = await get(range, 'HEAD');
    expect(head.status).toBe(206);
    expect(head.body.length).toBe(0);
    expect(t.reads.started).toBe(before);
    const body = await get(range);
    expect(head.headers['content-length']).toBe(String(body.body.length));
  });

  it('a reader that takes nothing stops the reads at N + 1 chunks, across parts too', async () => {
    t.store.gauge.peak = t.store.gauge.held;
    const started = t.reads.started;
    const [client, serverSide] = socketPair();
    t.running.server.emit('connection', serverSide);
    const enough = new Promise<void>((resolve) => {
      t.reads.onSettled = () => t.reads.settled - started >= N + 1 && resolve();
    });
    // Three parts over all 7 chunks, the first of N + 1: the reads stop within it.
    const range = `bytes=0-${3 * CHUNK - 1},${3 * CHUNK + 10}-${5 * CHUNK - 1},${5 * CHUNK + 10}-`;
    client.write(`GET /v1/files/${id} HTTP/1.1\r\nHost: localhost\r\nRange: ${range}\r\nConnection: close\r\n\r\n`);
    await enough;
    t.reads.onSettled = undefined;
    expect(t.reads.started - started).toBeLessThanOrEqual(N + 2);
    expect(t.store.gauge.held).toBeLessThanOrEqual((N + 1) * CHUNK);
    const all: Buffer[] = [];
    client.on('data', (d: Buffer) => all.push(d));
    await new Promise((resolve) => client.once('end', resolve));
    const raw = Buffer.concat(all);
    const split = raw.indexOf('\r\n\r\n');
    const headers = Object.fromEntries(
      raw
        .subarray(0, split)
        .toString()
        .split('\r\n')
        .slice(1)
        .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    const parts = parseMultipart({ status: 206, headers, body: raw.subarray(split + 4), json: () => undefined as never });
    expect(checkParts(parts)).toHaveLength(3);
    expect(t.store.gauge.peak).toBeLessThanOrEqual((N + 1) * CHUNK);
  });
});
