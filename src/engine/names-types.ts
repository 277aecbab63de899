// The name space's public types: a module of their own, so the context, the store and the
// gateway can name them without importing the name operations.
import type { FileInfo } from '../catalog/schema.js';

/** Conditions of a store to a name (RFC 9110 §13.1): `ifNoneMatch: '*'` creates only; `ifMatch` replaces only that file. */
export interface NameConditions {
  ifNoneMatch?: '*';
  /** The current file's ETag (its SHA-256, quoted or not), or `*` for any existing file. */
  ifMatch?: string;
}

export interface ListPage {
  files: FileInfo[];
  folders: string[];
  /** Pass as `cursor` for the next page; null on the last one. */
  next: string | null;
}

export type ListItem = { file: FileInfo; folder?: never } | { folder: string; file?: never };

/** What a store to a name did: `replaced` is the file the name held before (now removed), if any. */
export interface NameBinding {
  file: FileInfo;
  created: boolean;
  replaced?: FileInfo;
}

export interface MigrationReport {
  /** Files (manifests) read. */
  files: number;
  /** Files that are not their name's file: several files shared the name, the newest took it. Still reachable by id. */
  shadowed: number;
  /** The names several files shared (at most 1000 listed). */
  shadowedNames: string[];
  /** When the migration ran (ISO). */
  migrated: string;
}
