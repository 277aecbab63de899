import { configureHashing, hashingConfig } from '../../src/internal/hashing.js';

/** An engine configuration compared side by side with the others in one run. */
export interface Variant {
  name: string;
  /** Switches the engine to this configuration (process-wide). */
  enable: () => void;
  /** Downloads lend their buffers (what the gateways do) instead of handing out copies. */
  lend: boolean;
}

const start = hashingConfig();
const threads = start.threads || 2;

/**
 * The engine as shipped (hash threads, one per core), with lent buffers as the gateways read it
 * and with copies as an embedder gets by default; and with every hash inline on the event loop.
 */
export async function variants(): Promise<Variant[]> {
  return [
    { name: 'engine, lent buffers', enable: () => configureHashing({ threads }), lend: true },
    { name: 'engine, copies', enable: () => configureHashing({ threads }), lend: false },
    { name: 'engine, threads 0', enable: () => configureHashing({ threads: 0 }), lend: true },
  ];
}

/** Restores the configuration the process started with. */
export function restoreDefault(): void {
  configureHashing(start);
}
