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
    // Outer fence: tests may only ever reach loopback and the labs' own address blocks.
    env: {
      HAGRADE_ALLOWED_NETWORKS: "127.0.0.0/8,10.220.0.0/16,10.221.0.0/16,10.230.0.0/16,10.231.0.0/16",
      // Where runs remember their journal folders: the tests' own, not the user's ~/.local/state.
      HAGRADE_STATE_DIR: "/tmp/hagrade-test-state",
    },
  },
});
