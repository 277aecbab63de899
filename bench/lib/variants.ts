import { configureHashPool, hashPoolConfig, suggestedHashThreads } from '../../src/internal/hashPool.js';

/** An engine configuration compared side by side with the others in one run. */
export interface Variant {
  name: string;
  /** Switches the engine to this configuration (process-wide). */
  enable: () => void;
}

const defaultThreads = hashPoolConfig().threads;

/**
 * SHA-256 of chunks on the event loop (the engine's default), and on the opt-in worker pool of
 * src/internal/hashPool.ts (min(4, cores) threads).
 */
export async function variants(): Promise<Variant[]> {
  const threads = suggestedHashThreads();
  return [
    { name: 'engine', enable: () => configureHashPool({ threads: 0 }) },
    { name: `engine + ${threads} hash workers`, enable: () => configureHashPool({ threads }) },
  ];
}

/** Restores the pool size the process started with. */
export function restoreDefault(): void {
  configureHashPool({ threads: defaultThreads });
}
