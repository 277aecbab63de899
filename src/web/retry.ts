import { errorCode } from './messages.js';

/**
 * When the page tries again by itself: `busy` (the server's budget frees up as transfers end)
 * and `connection_lost` after the SDK's own redialling gave up (a server restart, a long outage).
 * Anything else is the user's to decide (Retry button).
 */
const DELAYS_MS: Record<string, number[]> = {
  busy: [1000, 2000, 4000, 8000, 8000],
  connection_lost: [2000, 5000, 10000],
};

/** The delay before attempt `attempt` (0-based) after `err`, or undefined to give up. */
export function retryDelay(err: unknown, attempt: number): number | undefined {
  return DELAYS_MS[errorCode(err)]?.[attempt];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
