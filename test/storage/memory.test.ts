import { createMemoryStore } from '../../src/storage/memory.js';
import { fakeClock } from '../helpers/clock.js';
import { describeChunkStoreConformance } from './conformance.js';

describeChunkStoreConformance('memory', { conditionalPut: true, rangeGet: true, flush: false }, async () => {
  const clock = fakeClock();
  return { store: createMemoryStore({ now: clock.now }), age: async (_key, ms) => clock.advance(ms), cleanup: async () => undefined };
});
