import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Two projects: `unit` (tests beside the code, no services) and `integration` (test/integration
// and test/e2e, run against the reference OpenStack that the global setup starts once and stops).
// No retries anywhere: a flaky test is a bug.
export default defineConfig({
  test: {
    retry: 0,
    maxWorkers: 2,
    projects: [
      {
        plugins: [svelte()],
        test: {
          name: 'unit',
          include: ['src/**/*.spec.ts', 'test/unit/**/*.test.ts', 'test/lint/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/setup/reference-openstack.global.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
