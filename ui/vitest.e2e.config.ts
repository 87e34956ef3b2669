import { defineConfig } from 'vitest/config';

// Browser test against the real `stewardctl serve`; run with `npm run test:e2e`.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    // the desktop window test has its own config (vitest.desktop.config.ts, needs Xvfb)
    exclude: ['e2e/desktop.e2e.ts', 'node_modules/**'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
