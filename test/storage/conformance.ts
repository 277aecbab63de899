import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basics } from './conformance/basics.js';
import { deferIgnored, flush } from './conformance/deferred.js';
import { conditionalPut, ifNotExists } from './conformance/if-not-exists.js';
import { list } from './conformance/list.js';
import { move } from './conformance/move.js';
import { into, lateInto, ranges } from './conformance/reads.js';
import type { ConformanceSubject, Declared } from './conformance/shared.js';

export type { ConformanceSubject, Declared } from './conformance/shared.js';

/**
 * The ChunkStore contract (src/storage/types.ts), one suite run against every backend, in groups
 * by capability (as tus's store tests are): the contract every store keeps, then what the backend
 * declares (`conditionalPut`, `flush`). Each test uses its own key prefix, so one store instance
 * serves the whole suite.
 */
export function describeChunkStoreConformance(name: string, declared: Declared, factory: () => Promise<ConformanceSubject>): void {
  describe(`ChunkStore conformance: ${name}`, () => {
    let made: ConformanceSubject | undefined;
    beforeAll(async () => {
      made = await factory();
    });
    afterAll(async () => {
      await made?.cleanup();
    });
    const subject = () => made!;

    it('has what its test file declares', () => {
      const { store } = subject();
      expect({ ...store.capabilities, flush: typeof store.flush === 'function' }).toEqual(declared);
    });
    describe('put, get, has, delete', () => basics(subject));
    describe('ifNotExists', () => ifNotExists(subject));
    describe('range gets', () => ranges(subject));
    describe('get into a buffer', () => into(subject));
    if (declared.lateInto) describe('get into a late buffer', () => lateInto(subject));
    describe('list', () => list(subject));
    describe('move', () => move(subject));
    if (declared.conditionalPut) describe('conditionalPut', () => conditionalPut(subject));
    if (declared.flush) describe('deferred puts and flush', () => flush(subject));
    else describe('deferred puts without flush', () => deferIgnored(subject));
  });
}
