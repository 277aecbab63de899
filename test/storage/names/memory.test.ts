import { createMemoryStore } from '../../../src/index.js';
import { describeNameSpaceConformance } from './conformance.js';

describeNameSpaceConformance('memory', { chunkStore: async () => createMemoryStore() });
