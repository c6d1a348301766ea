import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// `npm run test:chaos`: the long kill loops, kept out of `npm test`; CI runs both.
export default defineConfig({
  test: {
    ...base.test,
    include: ["test/chaos/**/*.chaos.ts"],
    testTimeout: 1_800_000,
    maxWorkers: 1,
  },
});
