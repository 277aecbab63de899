/**
 * The set of chunk keys gc marks, in 8 bytes a key (a Set of 64-character strings takes ~100):
 * open addressing over the keys' first 64 bits. Two keys sharing those bits look alike, so at
 * worst an unmarked chunk is kept (never the reverse): a miss is impossible, a false keep has
 * odds of n²/2⁶⁵ in a run.
 */
export class MarkSet {
  private table = new Uint32Array(2 * 1024);
  private count = 0;

  add(sha256: string): void {
    if (2 * (this.count + 1) > this.table.length / 2) this.grow();
    if (this.insert(this.table, ...split(sha256))) this.count++;
  }

  has(sha256: string): boolean {
    const [hi, lo] = split(sha256);
    const t = this.table;
    const mask = t.length / 2 - 1;
    for (let i = (lo ^ hi) & mask; ; i = (i + 1) & mask) {
      if (t[2 * i] === 0 && t[2 * i + 1] === 0) return false;
      if (t[2 * i] === hi && t[2 * i + 1] === lo) return true;
    }
  }

  get size(): number {
    return this.count;
  }

  private insert(t: Uint32Array, hi: number, lo: number): boolean {
    const mask = t.length / 2 - 1;
    for (let i = (lo ^ hi) & mask; ; i = (i + 1) & mask) {
      if (t[2 * i] === 0 && t[2 * i + 1] === 0) {
        t[2 * i] = hi;
        t[2 * i + 1] = lo;
        return true;
      }
      if (t[2 * i] === hi && t[2 * i + 1] === lo) return false;
    }
  }

  private grow(): void {
    const old = this.table;
    const next = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) if (old[i] !== 0 || old[i + 1] !== 0) this.insert(next, old[i]!, old[i + 1]!);
    this.table = next;
  }
}

/** The key's first 64 bits as two words; (0, 0) marks an empty slot, so it is stored as (0, 1). */
function split(sha256: string): [number, number] {
  const hi = parseInt(sha256.slice(0, 8), 16) >>> 0;
  const lo = parseInt(sha256.slice(8, 16), 16) >>> 0;
  return hi === 0 && lo === 0 ? [0, 1] : [hi, lo];
}
