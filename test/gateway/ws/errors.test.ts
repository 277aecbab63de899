import http from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenChecker } from '../../../src/gateway/auth.js';
import { attachWsGateway } from '../../../src/gateway/ws/gateway.js';
import { connect } from '../../../src/client/index.js';
import { FRAME_HEADER_BYTES, FrameType, encodeFrameHeader } from '../../../src/protocol/frames.js';
import type { ServerMessageOf } from '../../../src/protocol/messages.js';
import { CHUNK, bytes, collect, startHarness, type Harness } from '../../helpers/ws-harness.js';
import { RawClient } from '../../helpers/ws-raw.js';
import { rawGet, rawPut } from '../../helpers/ws-rawops.js';

let h: Harness;
let c: RawClient;
let fileId: string;
const FILE_SIZE = 3 * CHUNK + 10;

beforeAll(async () => {
  h = await startHarness({ maxFrameBytes: 512 * 1024 });
  c = await RawClient.open(h.url);
  fileId = (await rawPut(c, 1, bytes(FILE_SIZE, 3))).id;
});
afterAll(async () => {
  await c?.close();
  await h?.close();
});

type ErrorMsg = ServerMessageOf<'error'>;
const valid = 'a'.repeat(29);

describe('ws gateway: malformed input is answered on its stream, and the socket keeps serving', () => {
  // [label, what to send, stream the error is reported on, code, a word the message must contain]
  const table: [string, () => string | Uint8Array | object, number | null, string, string][] = [
    ['non-JSON text', () => 'hello {', null, 'bad_request', 'JSON'],
    ['JSON that is not an object', () => '[1,2,3]', null, 'bad_request', 'object'],
    ['unknown type', () => ({ type: 'explode', stream: 10 }), 10, 'bad_request', 'type'],
    ['missing type', () => ({ stream: 11 }), 11, 'bad_request', 'type'],
    ['stream id not an integer', () => ({ type: 'list', stream: 1.5 }), null, 'bad_request', 'stream'],
    ['stream id out of u32 range', () => ({ type: 'list', stream: 2 ** 32 }), null, 'bad_request', 'stream'],
    ['id of the wrong type', () => ({ type: 'download', stream: 12, id: 42 }), 12, 'bad_request', 'id'],
    ['unknown field', () => ({ type: 'list', stream: 13, extra: true }), 13, 'bad_request', 'extra'],
    ['credit of the wrong type', () => ({ type: 'download', stream: 14, id: valid, credit: 'lots' }), 14, 'bad_request', 'credit'],
    ['upload without name or uploadId', () => ({ type: 'upload', stream: 15 }), 15, 'bad_request', 'name'],
    ['traversal name', () => ({ type: 'upload', stream: 16, name: '../x' }), 16, 'bad_request', 'name'],
    ['traversal id (download)', () => ({ type: 'download', stream: 17, id: '../x' }), 17, 'bad_request', 'id'],
    ['traversal id (stat)', () => ({ type: 'stat', stream: 18, id: '../../etc/passwd' }), 18, 'bad_request', 'id'],
    ['traversal upload id', () => ({ type: 'upload', stream: 19, uploadId: '../x' }), 19, 'bad_request', 'uploadId'],
    ['negative range', () => ({ type: 'download', stream: 20, id: fileId, range: { start: -1 } }), 20, 'bad_request', 'range.start'],
    ['reversed range', () => ({ type: 'download', stream: 21, id: fileId, range: { start: 10, end: 5 } }), 21, 'bad_request', 'range.end'],
    [
      'range past the end',
      () => ({ type: 'download', stream: 22, id: fileId, range: { start: FILE_SIZE } }),
      22,
      'range_not_satisfiable',
      `${FILE_SIZE}`,
    ],
    ['unknown file', () => ({ type: 'download', stream: 23, id: valid }), 23, 'not_found', valid],
    ['unknown upload id', () => ({ type: 'upload', stream: 24, uploadId: valid }), 24, 'not_found', valid],
    ['status of an unknown upload', () => ({ type: 'status', stream: 25, uploadId: valid }), 25, 'not_found', valid],
    ['download frame sent by a client', () => frame(FrameType.DOWNLOAD_DATA, 29, 0, 10), 29, 'bad_request', 'frame.type'],
    ['binary frame shorter than its header', () => new Uint8Array([1, 1, 0]), null, 'bad_request', 'frame'],
    ['binary frame of another version', () => withByte(frame(FrameType.UPLOAD_DATA, 30, 0, 4), 0, 9), null, 'bad_request', 'version'],
    ['binary frame for stream 0', () => frame(FrameType.UPLOAD_DATA, 0, 0, 4), null, 'bad_request', 'stream'],
  ];

  it.each(table)('%s', async (_label, make, stream, code, word) => {
    const payload = make();
    if (payload instanceof Uint8Array) c.ws.send(payload);
    else c.send(payload);
    const err = await c.message<ErrorMsg>((m) => m.type === 'error' && m.stream === stream);
    expect(err.code).toBe(code);
    expect(err.message).toContain(word);
  });

  it('drops end, credit and data frames for streams that are not running (late ones must not hit a reused id)', async () => {
    c.send({ type: 'end', stream: 26 });
    c.send({ type: 'credit', stream: 27, chunks: 1 });
    c.ws.send(frame(FrameType.UPLOAD_DATA, 28, 0, 10));
    c.send({ type: 'list', stream: 31 });
    await c.onStream(31, 'files'); // a barrier: anything answered before it has arrived
    expect(c.events.filter((e) => e.kind === 'msg' && 'stream' in e.msg && [26, 27, 28].includes(e.msg.stream as number))).toEqual([]);
  });

  it('refuses a data frame beyond the credit, at the wrong offset, or after end', async () => {
    const cases: [string, (credit: number) => [number, number], string, string][] = [
      ['beyond credit', (credit) => [0, credit + 1], 'too_large', 'credit'],
      ['wrong offset', () => [5, 10], 'bad_request', 'frame.offset'],
    ];
    let stream = 40;
    for (const [label, shape, code, word] of cases) {
      stream++;
      c.send({ type: 'upload', stream, name: 'x.bin' });
      const started = await c.onStream<ServerMessageOf<'started'>>(stream, 'started');
      const [offset, size] = shape(started.credit);
      c.sendData(stream, offset, new Uint8Array(size));
      const err = await c.onStream<ErrorMsg>(stream, 'error');
      expect([err.code, err.message.includes(word)], label).toEqual([code, true]);
    }
    c.send({ type: 'upload', stream: 50, name: 'y.bin', size: 100 });
    await c.onStream(50, 'started');
    c.sendData(50, 0, new Uint8Array(10));
    c.send({ type: 'end', stream: 50 });
    expect(await c.onStream<ErrorMsg>(50, 'error')).toMatchObject({
      code: 'bad_request',
      message: expect.stringContaining('expected 100'),
    });
  });

  it('refuses a second request on a stream id in use, without disturbing the first', async () => {
    c.send({ type: 'download', stream: 60, id: fileId, credit: 0 }); // waits for credit: stays open
    await c.onStream(60, 'header');
    c.send({ type: 'list', stream: 60 });
    expect(await c.onStream<ErrorMsg>(60, 'error')).toMatchObject({ code: 'conflict' });
    c.send({ type: 'cancel', stream: 60 });
    await c.onStream(60, 'cancelled');
  });

  it('survives a burst of random messages and frames (property)', async () => {
    const types = ['auth', 'upload', 'end', 'download', 'credit', 'cancel', 'list', 'stat', 'remove', 'status', 'x'];
    const value = fc.oneof(
      fc.integer({ min: -5, max: 2 ** 33 }),
      fc.string({ maxLength: 40 }),
      fc.boolean(),
      fc.constant(null),
      fc.constant(valid),
      fc.constant(fileId),
    );
    const message = fc.record(
      {
        type: fc.constantFrom(...types),
        stream: fc.integer({ min: 100, max: 140 }),
        id: value,
        name: value,
        uploadId: value,
        range: fc.record({ start: value, end: value }),
        credit: value,
        chunks: value,
      },
      { requiredKeys: ['type'] },
    );
    const binary = fc.tuple(
      fc.constantFrom(0, 1, 2, 9),
      fc.integer({ min: 0, max: 140 }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.uint8Array({ maxLength: 64 }),
    );
    const inputs = fc.sample(fc.oneof(message, binary, fc.string({ maxLength: 30 })), { numRuns: 300, seed: 42 });
    for (const input of inputs) {
      if (typeof input === 'string') c.send(input.length ? input : ' ');
      else if (Array.isArray(input)) {
        const [type, stream, offset, payload] = input;
        const f = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
        f.set(encodeFrameHeader(type === 2 ? 2 : 1, stream, offset));
        f[1] = type;
        f.set(payload, FRAME_HEADER_BYTES);
        c.ws.send(f);
      } else c.send(input);
    }
    for (let s = 100; s <= 140; s++) c.send({ type: 'cancel', stream: s }); // whatever started, stop it
    c.send({ type: 'list', stream: 141 });
    await c.onStream(141, 'files'); // replies come in order: the burst was processed
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('still serves a full round trip on the same socket afterwards', async () => {
    const data = bytes(2 * CHUNK + 5, 77);
    const file = await rawPut(c, 70, data);
    const got = await rawGet(c, 71, file.id);
    expect(Buffer.compare(got.data, data)).toBe(0);
    expect(got.end.bytes).toBe(data.length);
  });
});

describe('ws gateway: connection-fatal input', () => {
  it.each([
    ['a frame above maxFrameBytes', 1009, (r: RawClient) => r.ws.send(new Uint8Array(512 * 1024 + 1))],
    ['a text frame that is not UTF-8', 1007, (r: RawClient) => r.ws.send(Buffer.from([0x22, 0xff, 0xfe, 0x22]), { binary: false })],
  ] as const)('%s closes that socket only (close code %i)', async (_label, closeCode, misbehave) => {
    const bad = await RawClient.open(h.url);
    misbehave(bad);
    expect((await bad.closed).code).toBe(closeCode);
    // The shared socket and new clients are unaffected.
    expect((await rawGet(c, 80 + closeCode, fileId)).data.length).toBe(FILE_SIZE);
    const sdk = await connect(h.url);
    try {
      expect((await collect(sdk.download(fileId))).length).toBe(FILE_SIZE);
    } finally {
      await sdk.close();
    }
  });
});

describe('attachWsGateway options', () => {
  it.each([
    [{ window: 0 }, 'window'],
    [{ maxFrameBytes: 10 }, 'maxFrameBytes'],
    [{ path: 'v1/ws' }, 'path'],
    [{ tokens: undefined }, 'tokens'],
    [{ colour: 'red' }, 'colour'],
  ])('refuses %o, naming %s', async (bad, option) => {
    const server = http.createServer();
    expect(() => attachWsGateway(server, { store: h.store, tokens: createTokenChecker([]), ...bad } as never)).toThrow(
      expect.objectContaining({ code: 'invalid_option', option }),
    );
    expect(server.listenerCount('upgrade')).toBe(0);
  });
});

function frame(type: 1 | 2, stream: number, offset: number, payloadBytes: number): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payloadBytes);
  out.set(encodeFrameHeader(type, stream, offset));
  return out;
}

function withByte(b: Uint8Array, at: number, value: number): Uint8Array {
  b[at] = value;
  return b;
}
