import { defineConfig } from "vitest/config";

// Unit and integration tests of every workspace. Integration tests use the
// embedded adapters always, and PostgreSQL / Redis when DATABASE_URL /
// REDIS_URL are set (CI sets both).
export default defineConfig({
  test: {
    include: [
      "shared/*/src/**/*.test.ts",
      "services/*/src/**/*.test.ts",
      "indexers/src/**/*.test.ts",
      "mcp/src/**/*.test.ts",
      "mcp-servers/*/src/**/*.test.ts",
      "cli/src/**/*.test.ts",
      "frontend/server/**/*.test.ts",
      "test/**/*.test.ts",
    ],
    exclude: ["test/topology/**", "**/node_modules/**"],
    testTimeout: 90_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
