import { defineConfig } from "vitest/config";

// The split topology on the seed's ports: every target as its own process
// behind a real nginx. Run by `.ci/run` (and `npm run test:topology`); it binds
// the seed ports, so it never runs beside the other suites.
export default defineConfig({
  test: {
    include: ["test/topology/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: "forks",
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
