/**
 * Flakiness: back-to-back grades of the correct lab give the same, full score — ten without
 * --disruptive on one lab, and ten with it (the failover included) on five correct labs side by
 * side, two in a row on each: the second grade starts while Apache still keeps the first one's
 * stopped server out for its retry (60 s), and must wait for it rather than see one server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { RunResult } from "../../src/runner/types.js";
import { gradeOptions, loadLabSpec } from "../helpers/grade.js";

let labs: Lab[] = [];
/** Between the starts of the labs' --disruptive grades. */
const STAGGER_MS = 12_000;
beforeAll(async () => {
  const started = await Promise.allSettled(Array.from({ length: 5 }, () => startLab({ variant: "correct" })));
  labs = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
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

  it("ten --disruptive grades (two in a row on each of five labs) give the same full score, each failover restored", async () => {
    // Started one grade's time apart: each lab's second grade waits about a minute for the balancer,
    // so the grades themselves hardly overlap (a loaded machine slows Apache's stop, and a slow
    // stop costs the VIP more failed requests than a student's machine would).
    const pairs = await Promise.all(labs.map(async (lab, k) => {
      await new Promise((r) => setTimeout(r, k * STAGGER_MS));
      return gradeInARow(lab, 2, true);
    }));
    const results = pairs.flat();
    expect(results).toHaveLength(10);
    results.forEach((r, i) => expect(notPassed(r), `run ${i + 1}`).toEqual([]));
    expect(new Set(results.map((r) => `${r.score}/${r.maxScore}`))).toEqual(new Set(["16/16"]));
    for (const r of results) {
      const failover = r.checks.find((c) => c.id === "proxy.failover")!;
      expect(failover.outcome).toBe("pass");
      const restore = failover.evidence.find((e) => e.kind === "restore") as { status?: string } | undefined;
      expect(restore?.status).toBe("verified");
    }
    // The second grade of each lab waited for the balancer to take webserver1 back before sampling.
    for (const [first, second] of pairs) {
      expect(first!.notes.map((n) => n.en).join("\n")).not.toMatch(/previous grade's failover/);
      expect(second!.notes.map((n) => n.en).join("\n")).toMatch(/waited \d+ s for the balancer to send webserver1 traffic again/);
    }
    for (const lab of labs) {
      // Served again by its own Apache, not just present on disk.
      const page = await lab.hostExec("ws1", "curl -s -m 3 http://127.0.0.1/ || true");
      expect(page.stdout).toContain("Bienvenido a webserver1");
    }
  }, 900_000);
});
