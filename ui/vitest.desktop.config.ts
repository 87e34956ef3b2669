import { defineConfig } from 'vitest/config';

// The desktop smoke test (needs a display: run under xvfb-run, see scripts/test).
export default defineConfig({
  test: {
    include: ['e2e/desktop.e2e.ts'],
    testTimeout: 120_000,
    hookTimeout: 90_000,
    fileParallelism: false,
  },
});
