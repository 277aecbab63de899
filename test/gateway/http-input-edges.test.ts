import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeFrame, FrameType } from '../../src/protocol/frames.js';
import { request, upload, testServerPerSuite } from '../helpers/http-server.js';

const t = testServerPerSuite();

/** Uploads `data` over a raw WebSocket with an exact JSON text for the upload message. */
async function wsUpload(uploadJson: string, data: Uint8Array): Promise<{ id: string; name: string }> {
  const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/ws`);
  const seen: { type: string; file?: { id: string; name: string }; message?: string }[] = [];
  const committed = new Promise<{ id: string; name: string }>((resolve, reject) => {
    ws.on('message', (d, binary) => {
      if (binary) return;
      const m = JSON.parse((d as Buffer).toString());
      seen.push(m);
      if (m.type === 'ready') ws.send(uploadJson);
      if (m.type === 'started') {
        ws.send(encodeFrame(FrameType.UPLOAD_DATA, 1, 0, data));
        ws.send(JSON.stringify({ type: 'end', stream: 1 }));
      }
      if (m.type === 'committed') resolve(m.file);
      if (m.type === 'error') reject(new Error(`${m.code}: ${m.message}`));
    });
    ws.on('close', () => reject(new Error(`closed after ${JSON.stringify(seen)}`)));
  });
  try {
    return await committed;
  } finally {
    ws.close();
  }
}

describe('HTTP edge cases', () => {
  it('a name with a lone UTF-16 surrogate is refused at upload, naming the field', async () => {
    // JSON "\ud800" parses to a lone surrogate; such a name once broke Content-Disposition (500).
    await expect(wsUpload('{"type":"upload","stream":1,"name":"a\\ud800b.txt"}', new TextEncoder().encode('hi'))).rejects.toThrow(
      /^bad_request: name: must be well-formed Unicode/,
    );
    const list = await request(`${t.url}/v1/files`);
    expect(list.json().files.map((f: { name: string }) => f.name)).not.toContain('a\ud800b.txt');
  });

  it('Range bounds past 2^53 are well-formed: an end is clamped, a start is 416, a suffix is the whole file', async () => {
    const f = await upload(t.url, 'r.txt', new TextEncoder().encode('hello world'));
    const get = (range: string) => request(`${t.url}/v1/files/${f.id}`, { headers: { range } });
    const clamped = await get('bytes=3-99999999999999999999');
    expect(clamped.status).toBe(206);
    expect(clamped.body.toString()).toBe('lo world');
    expect(clamped.headers['content-range']).toBe('bytes 3-10/11');
    const suffix = await get('bytes=-99999999999999999999');
    expect(suffix.status).toBe(206);
    expect(suffix.body.toString()).toBe('hello world');
    const start = await get('bytes=99999999999999999999-');
    expect(start.status).toBe(416);
    expect(start.headers['content-range']).toBe('bytes */11');
    expect(start.json().error.code).toBe('range_not_satisfiable');
  });
});

describe('Content-Disposition', () => {
  it('still encodes a name with a lone surrogate (a manifest from elsewhere) instead of throwing', async () => {
    const { contentDisposition } = await import('../../src/gateway/http/representation.js');
    expect(contentDisposition('a\ud800b.txt')).toBe(`attachment; filename=a_b.txt; filename*=UTF-8''a%EF%BF%BDb.txt`);
  });
});
