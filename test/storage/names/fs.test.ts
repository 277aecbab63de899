import { createFsStore } from '../../../src/index.js';
import { tempDir } from '../../helpers/core.js';
import { describeNameSpaceConformance } from './conformance.js';

describeNameSpaceConformance('fs', { chunkStore: async () => createFsStore(await tempDir('names')) });
