import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests, and integration tests that share one real control plane
// (etcd + kube-apiserver + kube-controller-manager) started once per run by the global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.cluster.test.ts', 'node_modules/**', 'build/**', 'dist/**'],
        },
      },
      {
        test: {
          name: 'cluster',
          include: ['**/*.cluster.test.ts'],
          exclude: ['node_modules/**', 'build/**', 'dist/**'],
          globalSetup: ['test/cluster-global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
