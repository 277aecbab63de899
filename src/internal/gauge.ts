/**
 * Counts the bytes a transfer holds right now and the most it ever held. Gauges nest: a
 * transfer's gauge reports into its store's gauge (and into any gauge the caller passed), so
 * tests and operators assert the memory bound per transfer and per server, without timing.
 */
export class HeldBytes {
  held = 0;
  peak = 0;
  private readonly parents: HeldBytes[];
  constructor(...parents: (HeldBytes | undefined)[]) {
    this.parents = parents.filter((p): p is HeldBytes => p !== undefined);
  }

  private closed = false;

  add(n: number): void {
    if (this.closed) return;
    this.held += n;
    if (this.held > this.peak) this.peak = this.held;
    for (const p of this.parents) p.add(n);
  }

  release(n: number): void {
    if (this.closed) return;
    this.held -= n;
    for (const p of this.parents) p.release(n);
  }

  /**
   * Ends a transfer's gauge: releases whatever is still counted and ignores later calls, since
   * some buffers of a cancelled transfer are only dropped after its teardown (an abandoned
   * source iterator finishes on its own time).
   */
  close(): void {
    if (this.held !== 0) this.release(this.held);
    this.closed = true;
  }
}
