import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/engine/store.js';
import { createHttpHandler } from '../../src/gateway/handler.js';
import { createMemoryStore } from '../../src/storage/memory.js';

// The HTTP handler's options are validated like every other factory's: defaults, then one zod
// check whose error names the option (before, a bad bodyIdleTimeoutMs reached setTimeout as is).
describe('createHttpHandler options', () => {
  const store = openStore({ chunkStore: createMemoryStore() });

  it.each([
    [{ bodyIdleTimeoutMs: 0 }, 'bodyIdleTimeoutMs'],
    [{ bodyIdleTimeoutMs: Number.NaN }, 'bodyIdleTimeoutMs'],
    [{ tokens: 'secret' }, 'tokens'],
    [{ budget: { reserve: () => undefined } }, 'budget'],
    [{ colour: 'red' }, 'colour'],
  ])('refuses %o, naming %s', (bad, option) => {
    expect(() => createHttpHandler({ store, ...bad } as never)).toThrow(expect.objectContaining({ code: 'invalid_option', option }));
  });

  it('refuses a missing store', () => {
    expect(() => createHttpHandler({} as never)).toThrow(expect.objectContaining({ code: 'invalid_option', option: 'store' }));
  });

  it('takes the defaults for options left out or undefined', () => {
    const handler = createHttpHandler({ store, bodyIdleTimeoutMs: undefined });
    expect(handler.active).toBe(0);
    expect(handler.answers('PUT', '/v1/files')).toBe(true);
  });
});
