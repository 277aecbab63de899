import { configureHashing, hashingConfig } from '../../src/internal/hashing.js';

/** An engine configuration compared side by side with the others in one run. */
export interface Variant {
  name: string;
  /** Switches the engine to this configuration (process-wide). */
  enable: () => void;
}

const start = hashingConfig();

/** The engine as shipped (hash threads: one per core), and with every hash inline on the event loop. */
export async function variants(): Promise<Variant[]> {
  return [
    { name: 'engine', enable: () => configureHashing({ threads: start.threads || 2 }) },
    { name: 'engine, threads 0', enable: () => configureHashing({ threads: 0 }) },
  ];
}

/** Restores the configuration the process started with. */
export function restoreDefault(): void {
  configureHashing(start);
}
