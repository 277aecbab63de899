import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, startTestServer, upload, type TestServer, testServerPerSuite } from '../helpers/http-server.js';

const APP = 'https://app.example';
const TOKEN = 'cors-token';

describe('CORS with --cors-origin', () => {
  let t: TestServer;
  let id: string;
  beforeAll(async () => {
    t = await startTestServer({ tokens: [TOKEN], server: { corsOrigins: [APP] } });
    id = (await upload(t.url, 'a.txt', Buffer.from('hello world'), { Authorization: `Bearer ${TOKEN}` })).id;
  });
  afterAll(() => t?.close());

  it('a preflight is answered before authentication, with the methods, headers and max-age', async () => {
    const r = await request(`${t.url}/v1/files/${id}`, {
      method: 'OPTIONS',
      headers: { Origin: APP, 'Access-Control-Request-Method': 'DELETE', 'Access-Control-Request-Headers': 'authorization, if-match' },
    });
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe(APP);
    expect(r.headers['access-control-allow-methods']).toBe('GET, HEAD, PUT, POST, DELETE, PATCH, OPTIONS'); // PATCH, OPTIONS: tus
    expect(String(r.headers['access-control-allow-headers']).split(', ')).toEqual(
      expect.arrayContaining(['Authorization', 'Range', 'If-Match', 'If-None-Match', 'Content-Type', 'X-Content-SHA256']),
    );
    expect(r.headers['access-control-max-age']).toBe('600');
    expect(r.headers.vary).toContain('Origin');
    expect(r.headers['access-control-allow-credentials']).toBeUndefined(); // bearer tokens, no cookies
  });

  it("Chrome's Private Network Access preflight is allowed for a CORS origin", async () => {
    const r = await request(`${t.url}/v1/files`, {
      method: 'OPTIONS',
      headers: { Origin: APP, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Private-Network': 'true' },
    });
    expect(r.headers['access-control-allow-private-network']).toBe('true');
  });

  it('responses (errors too) carry Allow-Origin, Vary and Expose-Headers for the app origin', async () => {
    const auth = { Authorization: `Bearer ${TOKEN}`, Origin: APP };
    const r = await request(`${t.url}/v1/files/${id}`, { headers: { ...auth, Range: 'bytes=0-4' } });
    expect(r.status).toBe(206);
    expect(r.headers['access-control-allow-origin']).toBe(APP);
    expect(r.headers.vary).toBe('Origin');
    expect(String(r.headers['access-control-expose-headers']).split(', ')).toEqual(
      expect.arrayContaining(['ETag', 'Content-Range', 'Content-Disposition', 'Content-Length', 'Accept-Ranges', 'Location']),
    );
    const denied = await request(`${t.url}/v1/files`, { headers: { Origin: APP } });
    expect(denied.status).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe(APP); // the app can read the error code
  });

  it('another origin gets no CORS headers: 403 forbidden, its preflight too', async () => {
    for (const method of ['GET', 'OPTIONS']) {
      const r = await request(`${t.url}/v1/files`, {
        method,
        headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
      });
      expect(r.status).toBe(403);
      expect(r.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('a request without Origin still gets Vary: Origin (a cache must not reuse it for the app)', async () => {
    const r = await request(`${t.url}/healthz`);
    expect(r.headers.vary).toBe('Origin');
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('without --cors-origin', () => {
  const t = testServerPerSuite();

  it('no CORS header on any answer, and a preflight is just an OPTIONS request (405)', async () => {
    const same = `${t.url}`;
    const pre = await request(`${t.url}/v1/files`, {
      method: 'OPTIONS',
      headers: { Origin: same, 'Access-Control-Request-Method': 'GET' },
    });
    expect(pre.status).toBe(405);
    const get = await request(`${t.url}/v1/files`, { headers: { Origin: same } });
    expect(get.status).toBe(200);
    for (const r of [pre, get]) {
      expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      expect(r.headers.vary).toBeUndefined();
    }
  });
});
