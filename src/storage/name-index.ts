/** As ChunkStore's CallOptions (declared here: types.ts names this module's interface). */
export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * The name space: one current value per name, listed in ascending UTF-8 byte order (what S3
 * lists in), folders derived from a prefix and a delimiter (S3's CommonPrefixes), never stored.
 * Values are opaque strings (the engine keeps a file's info there, JSON); `version` is the
 * backend's token for one stored value, handed back to `swap` to replace exactly that value
 * (compare-and-swap, race-free across processes on fs and, with conditional writes, on S3).
 *
 * Contract (test/storage/name-index-conformance.ts, run on memory, fs and s3):
 * - `get` of a missing name resolves undefined.
 * - `swap(name, value, expected)` sets (or with `value` undefined, removes) the name only if its
 *   current version is `expected` (undefined: only if absent); resolves whether it did.
 * - `list` returns at most `limit` items (entries and folders together) after `startAfter`, in
 *   byte order; `truncated` when more may follow. A name under a folder is never an entry. A
 *   `startAfter` that is a folder skips everything under it. Cost: O(limit) backend work (seeks,
 *   requests), whatever the number of names.
 */
export interface NameIndex {
  get(name: string, options?: CallOptions): Promise<NameRecord | undefined>;
  swap(name: string, value: string | undefined, expected: string | undefined, options?: CallOptions): Promise<boolean>;
  list(query: NameQuery, options?: CallOptions): Promise<NamePage>;
  close?(): Promise<void>;
}

export interface NameRecord {
  value: string;
  version: string;
}

export interface NameQuery {
  prefix: string;
  /** Any non-empty string; without it every name under the prefix is an entry. */
  delimiter?: string;
  /** Exclusive: the last name or folder of the previous page. */
  startAfter?: string;
  limit: number;
}

export interface NamePage {
  entries: { name: string; value: string }[];
  folders: string[];
  truncated: boolean;
}

const encoder = new TextEncoder();

/** The names' order: UTF-8 bytes, which is code point order (JS's `<` compares UTF-16 units and differs above U+FFFF). */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Only a surrogate against a unit at or above U+E000 orders differently from code points.
    if (x >= 0xd800 && y >= 0xd800) return (a.codePointAt(i) ?? x) - (b.codePointAt(i) ?? y) || x - y;
    return x - y;
  }
  return a.length - b.length;
}

export function nameBytes(name: string): Uint8Array {
  return encoder.encode(name);
}

/**
 * The page logic for an ordered map that can seek: `scan(from)` yields [name, value] at or after
 * `from` in byte order. A folder costs one seek (past everything under it), an entry one step.
 */
export function pageOf(query: NameQuery, scan: (from: string) => Iterable<[string, string]>): NamePage {
  const { prefix, delimiter, startAfter, limit } = query;
  const entries: NamePage['entries'] = [];
  const folders: string[] = [];
  let from = startAfter !== undefined && compareNames(startAfter, prefix) >= 0 ? startAfter : prefix;
  const count = () => entries.length + folders.length;
  for (;;) {
    let next: string | undefined;
    for (const [name, value] of scan(from)) {
      if (!name.startsWith(prefix)) return { entries, folders, truncated: false };
      if (startAfter !== undefined && compareNames(name, startAfter) <= 0) continue;
      const at = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
      const folder = at >= 0 ? name.slice(0, at + delimiter!.length) : undefined;
      if (folder !== undefined && startAfter !== undefined && startAfter.startsWith(folder)) {
        next = after(folder); // the cursor is this folder (or inside it): it was listed
        break;
      }
      if (count() === limit) return { entries, folders, truncated: true };
      if (folder === undefined) {
        entries.push({ name, value });
        continue;
      }
      folders.push(folder);
      next = after(folder);
      break;
    }
    if (next === undefined) return { entries, folders, truncated: false };
    from = next;
  }
}

/**
 * The first string after every string that starts with `s`, in code point order: its last code
 * point plus one (carrying past U+10FFFF), or undefined when there is none (s is all U+10FFFF).
 */
export function after(s: string): string | undefined {
  const cps = [...s];
  while (cps.length) {
    const last = cps.pop()!.codePointAt(0)!;
    let next = last + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // no surrogate is a code point of a name
    if (next <= 0x10ffff) return cps.join('') + String.fromCodePoint(next);
  }
  return undefined;
}

/** The name index of the memory store: a sorted array and a map (insert O(n) moves, lookups and pages O(log n + page)). */
export function createMemoryNameIndex(): NameIndex {
  const sorted: string[] = [];
  const values = new Map<string, string>();
  const position = (name: string) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareNames(sorted[mid]!, name) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return {
    async get(name) {
      const value = values.get(name);
      return value === undefined ? undefined : { value, version: value };
    },
    async swap(name, value, expected) {
      if (values.get(name) !== expected) return false;
      if (value === undefined) {
        if (values.delete(name)) sorted.splice(position(name), 1);
      } else {
        if (!values.has(name)) sorted.splice(position(name), 0, name);
        values.set(name, value);
      }
      return true;
    },
    async list(query) {
      return pageOf(query, function* (from) {
        for (let i = position(from); i < sorted.length; i++) yield [sorted[i]!, values.get(sorted[i]!)!];
      });
    },
  };
}
