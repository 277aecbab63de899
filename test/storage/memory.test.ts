import { createMemoryStore } from '../../src/storage/memory.js';
import { describeChunkStoreConformance } from './conformance.js';

describeChunkStoreConformance('memory', async () => ({ store: createMemoryStore(), cleanup: async () => undefined }));
