import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Labs are real namespaces and processes: files run in separate forks, a few at a time.
    pool: "forks",
    maxWorkers: 2,
    minWorkers: 1,
    reporters: ["default"],
  },
});
