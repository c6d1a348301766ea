import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { defineConfig } from "vitest/config";
import base from "./vitest.config.js";

// `npm run test:quick`, for the edit-test loop: the tests that need no lab (a few real servers on
// loopback included) and one netns lab, in about five minutes. `npm test` runs everything.

/** The one netns lab of the quick run: a --disruptive grade of the correct Part 2 lab, its restore after a SIGKILL. */
const ONE_LAB = "test/checks/proxy-failover.test.ts";

/** Files that start no lab but take over half a minute (a package install, corpora, simulations, the CLI run many times). */
const SLOW = [
  "test/portability/package.test.ts",
  "test/cli/cli.test.ts",
  "test/cli/report.test.ts",
  "test/hardening/corpus.test.ts",
  "test/hardening/hang.test.ts",
  "test/stats/error-rates-correct.test.ts",
  "test/stats/error-rates-wrong.test.ts",
  "test/ssh/pool.test.ts",
  "test/ssh/journal.test.ts",
  "test/lab/demo.test.ts",
  // Each runs the CLI many times over, or a large simulation: over a minute on a loaded machine.
  "test/cli/checks.test.ts",
  "test/cli/progress.test.ts",
  "test/cli/reporters.test.ts",
  "test/ssh/local.test.ts",
  "test/stats/exhaustive.test.ts",
];

/** A file that brings a reference lab up: a netns lab, the VM, or the lab scripts. */
const STARTS_A_LAB = /\bstart(Vm)?Lab\(|lab\.sh|scripts\/lab|"lab", "up"/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith(".test.ts") ? [join(dir, e.name)] : [],
  );
}

const quick = testFiles("test")
  .map((f) => f.split("\\").join("/"))
  .filter((f) => f === ONE_LAB || (!SLOW.includes(f) && !STARTS_A_LAB.test(readFileSync(f, "utf8"))))
  .sort();

export default defineConfig({
  test: {
    ...base.test,
    include: quick,
  },
});
