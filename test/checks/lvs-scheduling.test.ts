/**
 * Where the runner puts the Part 1 checks that must run alone: a check with a disruptive half
 * (lvs.http-get) and a long idle wait (lvs.persistence-long) start only after every other check
 * has finished, one at a time, so no sample refreshes a binding or sees a page being changed.
 */
import { describe, expect, it } from "vitest";
import { LVS_CHECKS } from "../../checks/index.js";
import { runChecks } from "../../src/runner/runner.js";
import type { CheckDefinition, Need } from "../../src/runner/types.js";

interface Span {
  id: string;
  start: number;
  end: number;
}

function recorder() {
  let clock = 0;
  const spans: Span[] = [];
  const define = (id: string, needs: Need[], turns: number): CheckDefinition<null> => ({
    id,
    part: "lvs",
    title: { es: id, en: id },
    points: 1,
    needs,
    async run() {
      const span = { id, start: clock++, end: -1 };
      spans.push(span);
      // Yield several times so concurrent checks would interleave.
      for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
      span.end = clock++;
      return { outcome: "pass", message: { es: "ok", en: "ok" }, evidence: [] };
    },
  });
  return { spans, define };
}

describe("checks that run alone", () => {
  it("start after every other check has ended and never overlap each other", async () => {
    const { spans, define } = recorder();
    const checks = [
      define("lvs.a-sample", ["http"], 20),
      define("lvs.http-get", ["ssh", "may-disrupt"], 5),
      define("lvs.b-ssh", ["ssh"], 30),
      define("lvs.persistence-long", ["http", "ssh", "long"], 5),
      define("lvs.failover", ["http", "ssh", "disruptive"], 5),
    ];
    await runChecks(checks, () => null);
    const byId = new Map(spans.map((s) => [s.id, s]));
    const lastNormalEnd = Math.max(byId.get("lvs.a-sample")!.end, byId.get("lvs.b-ssh")!.end);
    const alone = ["lvs.http-get", "lvs.persistence-long", "lvs.failover"].map((id) => byId.get(id)!);
    for (const s of alone) expect(s.start, s.id).toBeGreaterThan(lastNormalEnd);
    // In registration order, each ending before the next starts.
    for (let i = 1; i < alone.length; i++) expect(alone[i]!.start).toBeGreaterThan(alone[i - 1]!.end);
  });

  it("declares the Part 1 checks that change or wait as checks that run alone", () => {
    const needs = new Map(LVS_CHECKS.map((c) => [c.id, c.needs]));
    expect(needs.get("lvs.http-get")).toContain("may-disrupt");
    expect(needs.get("lvs.http-get")).not.toContain("disruptive");
    expect(needs.get("lvs.persistence-long")).toContain("long");
    const ids = LVS_CHECKS.map((c) => c.id);
    // The long wait comes before the checks that change the lab, which would disturb its binding.
    expect(ids.indexOf("lvs.persistence-long")).toBeLessThan(ids.indexOf("lvs.http-get"));
    expect(ids.indexOf("lvs.persistence-long")).toBeLessThan(ids.indexOf("lvs.failover"));
  });
});
