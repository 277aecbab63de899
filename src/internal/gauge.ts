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

  add(n: number): void {
    this.held += n;
    if (this.held > this.peak) this.peak = this.held;
    for (const p of this.parents) p.add(n);
  }

  release(n: number): void {
    this.held -= n;
    for (const p of this.parents) p.release(n);
  }

  /** Releases whatever is still counted (a transfer that ended or was cancelled). */
  releaseAll(): void {
    if (this.held !== 0) this.release(this.held);
  }
}
