import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// `npm run test:chaos`: the long kill loops, kept out of `npm test`; CI runs both.
export default defineConfig({
  test: {
    ...base.test,
    include: ["test/chaos/**/*.chaos.ts"],
    testTimeout: 1_800_000,
    // One file per disruptive check: two loops at once (a VM lab and a netns lab, or two VMs) fit
    // this 2-core machine; each loop calibrates its kill moments on its own lab as it runs.
    maxWorkers: 2,
  },
});
