/**
 * Flakiness: back-to-back grades of the correct lab give the same, full score — ten without
 * --disruptive on one lab, and ten with it (the failover included, Apache's 60 s retry each
 * time) on two correct labs side by side, five in a row on each.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { RunResult } from "../../src/runner/types.js";
import { gradeOptions, loadLabSpec } from "../helpers/grade.js";

let labs: Lab[] = [];
beforeAll(async () => {
  labs = await Promise.all([startLab({ variant: "correct" }), startLab({ variant: "correct" })]);
}, 180_000);
afterAll(async () => {
  await Promise.all(labs.map((lab) => lab.stop()));
});

async function gradeInARow(lab: Lab, runs: number, disruptive: boolean): Promise<RunResult[]> {
  const spec = await loadLabSpec(lab.specPath);
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    results.push(await gradeLab(spec, gradeOptions({ part: "proxy", disruptive, journalDir: `${lab.stateDir}/journal` })));
  }
  return results;
}

/** What kept a run from a full score, named so a flaky run says which check and why. */
const notPassed = (r: RunResult) => r.checks.filter((c) => c.outcome !== "pass" && c.outcome !== "skipped").map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`);

describe("the correct lab, graded again and again", () => {
  it("ten grades in a row give the same full score", async () => {
    const results = await gradeInARow(labs[0]!, 10, false);
    results.forEach((r, i) => expect(notPassed(r), `run ${i + 1}`).toEqual([]));
    expect(new Set(results.map((r) => `${r.score}/${r.maxScore}`))).toEqual(new Set(["14/14"]));
  }, 300_000);

  it("ten --disruptive grades (five in a row on each of two labs) give the same full score, each failover restored", async () => {
    const results = (await Promise.all(labs.map((lab) => gradeInARow(lab, 5, true)))).flat();
    expect(results).toHaveLength(10);
    results.forEach((r, i) => expect(notPassed(r), `run ${i + 1}`).toEqual([]));
    expect(new Set(results.map((r) => `${r.score}/${r.maxScore}`))).toEqual(new Set(["16/16"]));
    for (const r of results) {
      const failover = r.checks.find((c) => c.id === "proxy.failover")!;
      expect(failover.outcome).toBe("pass");
      const restore = failover.evidence.find((e) => e.kind === "restore") as { status?: string } | undefined;
      expect(restore?.status).toBe("verified");
    }
    for (const lab of labs) {
      // Served again by its own Apache, not just present on disk.
      const page = await lab.hostExec("ws1", "curl -s -m 3 http://127.0.0.1/ || true");
      expect(page.stdout).toContain("Bienvenido a webserver1");
    }
  }, 900_000);
});
