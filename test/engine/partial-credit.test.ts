/**
 * Partial credit is not a pass: a check passes only when every expectation is met and then earns
 * all its points; partial points come with `fail`. The types refuse a pass with credit (the
 * `@ts-expect-error` lines below stop compiling if they ever allow one), and the runner turns one
 * that arrives anyway into a fail, so JUnit and CI never show green for part of a step.
 */
import { describe, expect, it } from "vitest";
import { regradeResult } from "../../src/batch/regrade.js";
import { fail, pass, text } from "../../src/runner/check.js";
import { runChecks, settleCredit } from "../../src/runner/runner.js";
import type { CheckDefinition, CheckResult, RunResult, Verdict } from "../../src/runner/types.js";

const said = text("visto", "seen");
const fix = text("arreglo", "fix");

function check(id: string, verdict: Verdict, points = 2): CheckDefinition<null> {
  return { id, part: "lvs", title: text(id, id), points, needs: [], run: () => Promise.resolve(verdict) };
}

async function runOne(verdict: Verdict, points = 2): Promise<CheckResult> {
  const [result] = await runChecks([check("x", verdict, points)], () => null);
  return result!;
}

describe("partial credit", () => {
  it("cannot be written on a pass", () => {
    // @ts-expect-error a pass carries no credit
    const literal: Verdict = { outcome: "pass", message: said, evidence: [], credit: 0.5 };
    // @ts-expect-error pass() takes no credit
    const built = pass(said, [], { credit: 0.5 });
    // @ts-expect-error inconclusive earns nothing
    const other: Verdict = { outcome: "inconclusive", message: said, evidence: [], credit: 0.5 };
    expect([literal.outcome, built.outcome, other.outcome]).toEqual(["pass", "pass", "inconclusive"]);
  });

  it("comes with fail, and the points are the fraction of the check's", async () => {
    const result = await runOne(fail(said, fix, [], { credit: 0.5 }));
    expect(result).toMatchObject({ outcome: "fail", points: 1, maxPoints: 2, credit: 0.5 });
  });

  it("turns a pass with part of the points that arrives anyway (a cast) into a fail that keeps them", async () => {
    const smuggled = { outcome: "pass", message: said, evidence: [{ kind: "sample" }], credit: 0.5, fix } as unknown as Verdict;
    const result = await runOne(smuggled);
    expect(result.outcome).toBe("fail");
    expect(result.points).toBe(1);
    expect(result.fix).toEqual(fix);
    expect(result.message.en).toContain("50 % of the points");
    expect(result.message.es).toContain("50 % de los puntos");
    expect(result.evidence).toEqual([{ kind: "sample" }]);
  });

  it("gives a pass all its points, whatever credit it claims", async () => {
    expect(await runOne(pass(said))).toMatchObject({ outcome: "pass", points: 2, credit: 1 });
    const claimsMore = { outcome: "pass", message: said, evidence: [], credit: 3 } as unknown as Verdict;
    expect(await runOne(claimsMore)).toMatchObject({ outcome: "pass", points: 2, credit: 1 });
  });

  it("calls a fail that claims every point the grader's bug", async () => {
    const result = await runOne(fail(said, fix, [], { credit: 1 }));
    expect(result.outcome).toBe("error");
    expect(result.points).toBe(0);
    expect(result.message.en).toContain("Grader error");
  });

  it("never rounds a fail up to the full points", async () => {
    const result = await runOne(fail(said, fix, [], { credit: 0.9999 }), 1);
    expect(result.outcome).toBe("fail");
    expect(result.points).toBeLessThan(result.maxPoints);
    expect(result.credit).toBeLessThan(1);
  });

  it("drops credit on outcomes that earn nothing", () => {
    const inconclusive = { outcome: "inconclusive", message: said, fix, evidence: [], credit: 0.7 } as unknown as Verdict;
    expect(settleCredit(inconclusive)).not.toHaveProperty("credit");
  });

  it("re-scores a result saved with a partial pass as the fail it was", () => {
    const saved = {
      schemaVersion: 1,
      checks: [{ id: "lvs.persistence", part: "lvs", title: said, outcome: "pass", points: 1, maxPoints: 2, credit: 0.5, message: said, evidence: [], startedAt: "", durationMs: 0 }],
      notes: [],
      score: 1,
      maxScore: 2,
      counts: { pass: 1, fail: 0, inconclusive: 0, error: 0, skipped: 0 },
    } as unknown as RunResult;
    const regraded = regradeResult(saved, { points: { "lvs.persistence": 4 } });
    expect(regraded.checks[0]).toMatchObject({ outcome: "fail", points: 2, maxPoints: 4 });
    expect(regraded.counts).toMatchObject({ pass: 0, fail: 1 });
  });
});
