import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, InvalidOptionError } from '../../src/errors.js';
import { createMemoryStore } from '../../src/storage/memory.js';
import { withLatency } from '../../src/storage/latency.js';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('withLatency', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delays get and put by the configured time, then calls the inner store', async () => {
    const inner = createMemoryStore();
    const getSpy = vi.spyOn(inner, 'get');
    const putSpy = vi.spyOn(inner, 'put');
    const store = withLatency(inner, { getMs: 50, putMs: 20 });

    let put = false;
    const p = store.put('a/b', bytes('hello')).then((r) => ((put = true), r));
    await vi.advanceTimersByTimeAsync(19);
    expect(put).toBe(false);
    expect(putSpy).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await expect(p).resolves.toEqual({ created: true });
    expect(putSpy).toHaveBeenCalledTimes(1);

    let got: Uint8Array | undefined;
    const g = store.get('a/b').then((d) => (got = d));
    await vi.advanceTimersByTimeAsync(49);
    expect(got).toBeUndefined();
    expect(getSpy).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    await g;
    expect(new TextDecoder().decode(got)).toBe('hello');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('completes concurrent calls in order of their delays (jitter from the given random)', async () => {
    const inner = createMemoryStore();
    await inner.put('k1', bytes('1'));
    await inner.put('k2', bytes('2'));
    const draws = [0.9, 0.1];
    const store = withLatency(inner, { getMs: 10, jitterMs: 100, random: () => draws.shift()! });
    const order: string[] = [];
    const a = store.get('k1').then(() => order.push('k1')); // 10 + 90 ms
    const b = store.get('k2').then(() => order.push('k2')); // 10 + 10 ms
    await vi.advanceTimersByTimeAsync(20);
    expect(order).toEqual(['k2']);
    await vi.advanceTimersByTimeAsync(80);
    await Promise.all([a, b]);
    expect(order).toEqual(['k2', 'k1']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with an AbortError as soon as the signal aborts, clears its timer and never calls the store', async () => {
    const inner = createMemoryStore();
    await inner.put('k', bytes('x'));
    const getSpy = vi.spyOn(inner, 'get');
    const store = withLatency(inner, { getMs: 1000 });
    const controller = new AbortController();
    const p = store.get('k', { signal: controller.signal });
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await expect(p).rejects.toBeInstanceOf(AbortError);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(2000);
    expect(getSpy).not.toHaveBeenCalled();
  });

  it('rejects at once for an already-aborted signal, without a timer', async () => {
    const store = withLatency(createMemoryStore(), { putMs: 1000 });
    const p = store.put('k', bytes('x'), { signal: AbortSignal.abort() });
    expect(vi.getTimerCount()).toBe(0);
    await expect(p).rejects.toBeInstanceOf(AbortError);
  });

  it('removes its abort listener once the delay has passed', async () => {
    const store = withLatency(createMemoryStore(), { putMs: 5 });
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const p = store.put('k', bytes('x'), { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(5);
    await expect(p).resolves.toEqual({ created: true });
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
    controller.abort(); // late abort: nothing left to reject
  });

  it('passes other calls through without delay, and sets no timer for a zero delay', async () => {
    const inner = createMemoryStore();
    const store = withLatency(inner, { getMs: 100 });
    await store.put('a/x', bytes('1')); // putMs defaults to 0
    expect(vi.getTimerCount()).toBe(0);
    expect(await store.has('a/x')).toBe(true);
    const keys: string[] = [];
    for await (const o of store.list('a/')) keys.push(o.key);
    expect(keys).toEqual(['a/x']);
    await store.delete('a/x');
    expect(await inner.has('a/x')).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    expect(store.name).toBe(inner.name);
    expect(store.capabilities).toBe(inner.capabilities);
  });

  it('refuses negative or non-finite delays', () => {
    expect(() => withLatency(createMemoryStore(), { getMs: -1 })).toThrow(InvalidOptionError);
    expect(() => withLatency(createMemoryStore(), { jitterMs: Number.NaN })).toThrow(InvalidOptionError);
  });
});
