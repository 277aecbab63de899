import type { Backend } from './backend.js';

/** What a command gets from main: the store (opened on first use), Ctrl-C, and its outputs. */
export interface RunContext {
  /** Opens the backend (checked: a read command on a path holding no store fails here). */
  open(): Promise<Backend>;
  /** Aborted on Ctrl-C (SIGINT): commands stop, clean up and say what they left. */
  readonly signal: AbortSignal;
  /** A line on stdout. */
  out(line: string): void;
  /** `chunkstream: <line>` on stderr: notes and warnings, never the final error. */
  note: (line: string) => void;
}
