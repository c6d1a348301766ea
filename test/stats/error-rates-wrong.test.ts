/**
 * False-pass rate of decideRatio on WRONG labs, at each plausible alternative, measured by
 * simulation with fixed seeds. Requirement: P(pass | lab at an alternative) ≤ β = 0.001.
 */
import { afterAll, describe, expect, it } from "vitest";
import { apacheCycle, cycle, formatResults, iid, interleaved, lvsCycle, runScenario, type Scenario, type ScenarioResult } from "./simulate.js";

const e11 = { "1": 1, "2": 1 };
const e21 = { "1": 2, "2": 1 };
const e31 = { "1": 3, "2": 1 };
const e111 = { "1": 1, "2": 1, "3": 1 };

const scenarios: Scenario[] = [
  // Expected 3:1, the lab does something else.
  { name: "i.i.d. 1:1 (weights ignored), expected 3:1", expected: e31, source: iid(e11), truth: "fail", runs: 10_000 },
  { name: "i.i.d. 2:1, expected 3:1", expected: e31, source: iid(e21), truth: "fail", runs: 20_000 },
  { name: "i.i.d. 4:1, expected 3:1", expected: e31, source: iid({ "1": 4, "2": 1 }), truth: "fail", runs: 15_000 },
  { name: "i.i.d. 3:2, expected 3:1", expected: e31, source: iid({ "1": 3, "2": 2 }), truth: "fail", runs: 5_000 },
  { name: "i.i.d. 1:3 (swapped), expected 3:1", expected: e31, source: iid({ "1": 1, "2": 3 }), truth: "fail", runs: 10_000 },
  { name: "one backend only, expected 3:1", expected: e31, source: iid({ "1": 1, "2": 0 }), truth: "fail", runs: 10_000 },
  { name: "i.i.d. 10:1 (beyond 4:1), expected 3:1", expected: e31, source: iid({ "1": 10, "2": 1 }), truth: "fail", runs: 5_000 },
  { name: "LVS rr cycle 12, expected 3:1", expected: e31, source: cycle(lvsCycle(e11)), truth: "fail", runs: 10_000 },
  { name: "Apache 2:1 cycle, expected 3:1", expected: e31, source: cycle(apacheCycle(e21)), truth: "fail", runs: 10_000 },
  { name: "Apache 1:3 cycle (swapped), expected 3:1", expected: e31, source: cycle(apacheCycle({ "1": 1, "2": 3 })), truth: "fail", runs: 10_000 },
  { name: "LVS 2:1, 5 % of turns to others, expected 3:1", expected: e31, source: interleaved(lvsCycle(e21), 0.05), truth: "fail", runs: 3_000 },
  // Expected 1:1 and 2:1.
  { name: "i.i.d. 2:1, expected 1:1", expected: e11, source: iid(e21), truth: "fail", runs: 10_000 },
  { name: "i.i.d. 3:1, expected 2:1", expected: e21, source: iid(e31), truth: "fail", runs: 10_000 },
  { name: "i.i.d. 1:1, expected 2:1", expected: e21, source: iid(e11), truth: "fail", runs: 5_000 },
  // Three backends.
  { name: "i.i.d. 1:1:0 (one missing), expected 1:1:1", expected: e111, source: iid({ "1": 1, "2": 1, "3": 0 }), truth: "fail", runs: 5_000 },
  { name: "i.i.d. 2:1:1, expected 1:1:1", expected: e111, source: iid({ "1": 2, "2": 1, "3": 1 }), truth: "fail", runs: 5_000 },
];

const results: ScenarioResult[] = [];

describe("false-pass rate on wrong labs (β = 0.001)", () => {
  for (const [index, scenario] of scenarios.entries()) {
    it(scenario.name, () => {
      const result = runScenario(scenario, 5000 + index);
      results.push(result);
      expect(result.consistencyPValue, `${scenario.name}: ${result.pass} passes in ${result.runs}`).toBeGreaterThan(0.001);
      expect(result.fail / result.runs, `${scenario.name}: fail share`).toBeGreaterThanOrEqual(0.99);
    });
  }

  it("pooled over all wrong-lab scenarios", () => {
    const runs = results.reduce((s, r) => s + r.runs, 0);
    const passes = results.reduce((s, r) => s + r.pass, 0);
    expect(runs).toBeGreaterThanOrEqual(100_000);
    expect(passes / runs).toBeLessThan(0.001);
  });
});

afterAll(() => {
  const runs = results.reduce((s, r) => s + r.runs, 0);
  const passes = results.reduce((s, r) => s + r.pass, 0);
  console.log(`${formatResults("Wrong labs (wrong = pass)", results)}\npooled: ${passes} passes in ${runs} verdicts`);
});
