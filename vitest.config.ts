import { defineConfig } from 'vitest/config';

// Two projects (CONTRIBUTING.md, test tiers): `unit` needs no database; `integration` and `spec` share one
// Postgres started by the global setup (embedded, or TEST_DATABASE_URL / DATABASE_URL).
export default defineConfig({
  test: {
    // The JSON report lets .ci/run print the plain "N passed, N failed" line CI reads.
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/spec/**/*.test.ts', 'test/security/**/*.test.ts', 'test/reliability/**/*.test.ts', 'test/docs/**/*.test.ts', 'test/package/**/*.test.ts', 'test/browser/**/*.test.ts'],
          globalSetup: ['./test/helpers/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
