import type { ChunkStore, StoredObject } from '../../../src/storage/types.js';

export interface ConformanceSubject {
  store: ChunkStore;
  cleanup(): Promise<void>;
  /**
   * Makes `key` look `ms` older than it is, the way time passing would (utimes on the file that
   * holds it, or a fake clock moved on), so the suite can see a modified time refreshed without
   * waiting. A backend without it is given the time for real (2 s: S3 keeps whole seconds).
   */
  age?(key: string, ms: number): Promise<void>;
}

/**
 * What a backend declares, beyond the contract every store keeps: the groups of tests for a
 * capability run only against backends declaring it (not skipped: not registered), and the
 * suite checks that the store has what its test file declares.
 */
export interface Declared {
  /** `capabilities.conditionalPut`: ifNotExists is race-free, exactly one of many concurrent puts creates. */
  conditionalPut: boolean;
  /** `capabilities.rangeGet`: ranges are read, not sliced from a whole read (not observable: declared and checked). */
  rangeGet: boolean;
  /** `capabilities.lateInto`: `get({ lateInto })` takes the buffer once, when the bytes come. */
  lateInto: boolean;
  /** `flush`: deferred puts are staged, invisible until flushed. */
  flush: boolean;
}

/** The subject under test, once the suite's beforeAll made it. */
export type Subject = () => ConformanceSubject;

export const utf8 = (s: string) => new TextEncoder().encode(s);
export const text = (b: Uint8Array) => new TextDecoder().decode(b);

export async function listed(it: AsyncIterable<StoredObject>): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  for await (const o of it) out.push(o);
  return out;
}

/** The code a call rejects with, `resolved`, or what an uncoded error was. */
export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return (err as { code?: string }).code ?? `uncoded ${(err as Error)?.name}: ${(err as Error)?.message}`;
  }
  return 'resolved';
}

export async function modifiedOf(store: ChunkStore, key: string): Promise<Date> {
  const found = (await listed(store.list(key))).find((o) => o.key === key);
  if (!found) throw new Error(`${key} not listed`);
  return found.modified;
}

export async function runPool<T>(items: T[], width: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
