import { defineConfig } from 'vitest/config';

/**
 * Two tiers (CONTRIBUTING.md, "Test tiers"): `fast` is what `npm test` runs; `slow` holds the
 * load tests (hammer, churn), the two-gateway scale-out and the Chromium suites. `vitest run`
 * and `npm run test:all` run both; CI runs both.
 */
const SLOW = ['test/**/*.slow.test.ts', 'test/scaleout/**/*.test.ts', 'test/web/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'fast', include: ['test/**/*.test.ts'], exclude: SLOW } },
      { extends: true, test: { name: 'slow', include: SLOW } },
    ],
  },
});
