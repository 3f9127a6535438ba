import { defineConfig } from 'vitest/config';

// Three projects: fast unit tests; integration tests that share one real control plane (etcd +
// kube-apiserver + kube-controller-manager) started once per run by the global setup; and end-to-end
// tests on a real kubelet node (hack/node/, root only), sharing one control plane and node, one file at a
// time (their pods share the machine's two cores).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.test.ts'],
          exclude: ['**/*.cluster.test.ts', '**/*.node.test.ts', 'node_modules/**', 'build/**', 'dist/**'],
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
      {
        test: {
          name: 'node',
          include: ['**/*.node.test.ts'],
          exclude: ['node_modules/**', 'build/**', 'dist/**'],
          globalSetup: ['test/node-global-setup.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
