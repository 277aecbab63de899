import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/client/index.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';

// "SDK connection errors say what happened" (issue 8): before, all of these read
// "the WebSocket connection closed (code 1006)" or "invalid token".
describe('client: why a connection failed', () => {
  let t: TestServer;
  let ws: string;
  beforeAll(async () => {
    t = await startTestServer({ tokens: ['right-token'] });
    ws = t.url.replace('http:', 'ws:');
  });
  afterAll(() => t.close());

  it('nothing listening: connection refused, said so', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r)); // a port that was free a moment ago
    const err = await connect(`ws://127.0.0.1:${port}/v1/ws`, { reconnectAttempts: 0 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'connection_lost' });
    expect(err.message).toBe(
      `cannot connect to ws://127.0.0.1:${port}/v1/ws: connection refused (is the server running, on this host and port?)`,
    );
  });

  it('a wrong path: 404 on the upgrade, not retried', async () => {
    const err = await connect(`${ws}/v1/websocket`, { token: 'right-token', reconnectAttempts: 3, reconnectDelayMs: 60_000 }).catch(
      (e) => e,
    );
    expect(err).toMatchObject({ code: 'not_found' });
    expect(err.message).toMatch(/answered 404 to the WebSocket upgrade: wrong path\? \(chunkstream serves \/v1\/ws\)$/);
  });

  it('no token vs a wrong token', async () => {
    const missing = await connect(`${ws}/v1/ws`).catch((e) => e);
    expect(missing).toMatchObject({ code: 'unauthorized' });
    expect(missing.message).toMatch(/the server requires a token and none was given: connect\(url, \{ token \}\) \(a token is required\)$/);
    const wrong = await connect(`${ws}/v1/ws`, { token: 'wrong-token' }).catch((e) => e);
    expect(wrong).toMatchObject({ code: 'unauthorized' });
    expect(wrong.message).toMatch(/the server refused the token \(invalid token\)$/);
    const client = await connect(`${ws}/v1/ws`, { token: 'right-token' });
    await client.close();
  });
});
