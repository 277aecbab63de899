import { describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/storage/memory.js';
import { fakeClock } from '../helpers/clock.js';
import { describeChunkStoreConformance } from './conformance.js';

describeChunkStoreConformance('memory', { conditionalPut: true, rangeGet: true, lateInto: true, flush: false }, async () => {
  const clock = fakeClock();
  return { store: createMemoryStore({ now: clock.now }), age: async (_key, ms) => clock.advance(ms), cleanup: async () => undefined };
});

describe('memory store options', () => {
  it('a now that is not a function is an InvalidOptionError naming it', () => {
    expect(() => createMemoryStore({ now: 1_700_000_000_000 as never })).toThrow(
      expect.objectContaining({ code: 'invalid_option', option: 'now' }),
    );
  });
});
