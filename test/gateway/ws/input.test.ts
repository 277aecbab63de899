import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessageOf } from '../../../src/protocol/messages.js';
import { startHarness, type Harness } from '../../helpers/ws-harness.js';
import { RawClient } from '../../helpers/ws-raw.js';

let h: Harness;
let c: RawClient;
beforeAll(async () => {
  h = await startHarness();
  c = await RawClient.open(h.url);
});
afterAll(async () => {
  await c?.close();
  await h?.close();
});

describe('hostile WebSocket input gets a coded bad_request, not internal', () => {
  it('a message type nested 300k arrays deep (fits in one frame) names the field', async () => {
    // JSON.parse copes; echoing the value with JSON.stringify overflowed the stack → `internal`.
    const depth = 300_000;
    c.send(`{"type":${'['.repeat(depth)}${']'.repeat(depth)},"stream":7}`);
    const err = await c.message<ServerMessageOf<'error'>>((m) => m.type === 'error');
    expect(err.code).toBe('bad_request');
    expect(err.stream).toBe(7);
    expect(err.message).toMatch(/^type: unknown message type array/);
    // The socket keeps serving.
    c.send({ type: 'list', stream: 8 });
    expect((await c.onStream(8)).type).toBe('files');
  });
});
