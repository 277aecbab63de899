/**
 * The one way tests wait for a state no event announces (a gauge back at 0, a file on disk, a
 * server past an offset): polls `probe` until it returns a value other than `undefined` or
 * `false`, and resolves with it. A probe may also throw (an `expect`): it is retried, and the
 * last error is reported if time runs out. The limit is a safety net, not a timing assertion.
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  what: string,
  { timeoutMs = 30_000, intervalMs = 2 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Exclude<T, undefined | false>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as Exclude<T, undefined | false>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last === undefined ? '' : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`;
      throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms${why}`, { cause: last });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
