import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// Three projects: `unit` (tests beside the code, no services), `component` (Svelte components
// rendered in jsdom with @testing-library/svelte: *.component.spec.ts) and `integration`
// (test/integration and test/e2e, run against the reference OpenStack that the global setup
// starts once and stops).
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
          exclude: ['src/**/*.component.spec.ts'],
          testTimeout: 30_000,
        },
      },
      {
        plugins: [svelte(), svelteTesting()],
        test: {
          name: 'component',
          include: ['src/renderer/**/*.component.spec.ts'],
          environment: 'jsdom',
          setupFiles: ['test/setup/jsdom.ts'],
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
