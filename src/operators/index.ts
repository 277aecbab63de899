export { concatMapEager } from './concatMapEager.js';
export { mergeMapBounded } from './mergeMapBounded.js';
export { fromPull, type PullSource } from './fromPull.js';
export { createDemand, type Demand } from './demand.js';
export type { FlowControl } from '../internal/boundedMerge.js';
