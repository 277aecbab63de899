import { randomBytes } from 'node:crypto';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createMemoryStore, openStore } from '../../src/index.js';
import { MarkSet } from '../../src/internal/mark-set.js';
import { CHUNK, bytes, collect } from '../helpers/core.js';
import { fakeClock } from '../helpers/clock.js';

const HOUR = 3600_000;

function clocked() {
  const clock = fakeClock();
  const store = openStore({ chunkStore: createMemoryStore({ now: clock.now }), chunkSize: CHUNK, now: clock.now });
  return { clock, store };
}

describe('gc and the name space', () => {
  it('a replaced file keeps its chunks for the grace from its replacement, however old they are, then they go', async () => {
    const { clock, store } = clocked();
    const old = await lastValueFrom(store.uploadTo('doc', bytes(3 * CHUNK, 1)));
    clock.advance(5 * HOUR); // the old file's chunks are long past the grace
    const plan = await store.plan(old.type === 'committed' ? old.file.id : ''); // a reader that started before the replace
    await lastValueFrom(store.uploadTo('doc', bytes(CHUNK, 2)));
    expect(await store.gc()).toMatchObject({ removedChunks: 0, keptReferencedChunks: 4 });
    expect((await collect(store.read(plan))).equals(Buffer.from(bytes(3 * CHUNK, 1)))).toBe(true);
    clock.advance(HOUR + 1);
    expect(await store.gc()).toMatchObject({ removedChunks: 3, keptReferencedChunks: 1 });
    expect(await store.gc()).toMatchObject({ removedChunks: 0 }); // the retired record went with them
    expect((await collect(store.download((await store.lookup('doc')).id))).equals(Buffer.from(bytes(CHUNK, 2)))).toBe(true);
  });

  it('a file removed by name is collected after the grace; a copy keeps the shared chunks', async () => {
    const { clock, store } = clocked();
    await lastValueFrom(store.uploadTo('a', bytes(2 * CHUNK, 3)));
    await lastValueFrom(store.uploadTo('b', bytes(2 * CHUNK, 4)));
    await store.copy('b', 'b2');
    clock.advance(2 * HOUR);
    await store.removeName('a');
    await store.removeName('b');
    expect(await store.gc()).toMatchObject({ removedChunks: 0 });
    clock.advance(HOUR + 1);
    expect(await store.gc()).toMatchObject({ removedChunks: 2, keptReferencedChunks: 2 });
    expect((await store.verify()).problems).toEqual([]);
  });
});

describe('MarkSet', () => {
  it('holds every key added (no miss, ever) and few it was not given', () => {
    const set = new MarkSet();
    const keys = Array.from({ length: 50_000 }, () => randomBytes(32).toString('hex'));
    for (const k of keys) set.add(k);
    for (const k of keys.slice(0, 1000)) set.add(k); // again: counted once
    expect(set.size).toBe(keys.length);
    expect(keys.every((k) => set.has(k))).toBe(true);
    const others = Array.from({ length: 50_000 }, () => randomBytes(32).toString('hex'));
    expect(others.filter((k) => set.has(k))).toEqual([]);
    set.add('0'.repeat(64)); // the empty slot's pattern is a key too
    expect(set.has('0'.repeat(64))).toBe(true);
  });
});
