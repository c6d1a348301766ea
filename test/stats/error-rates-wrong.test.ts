/**
 * False-pass rate of the ratio decider on WRONG labs with random schedulers, measured by
 * simulation with fixed seeds. Claim: P(pass | lab at a plausible wrong configuration) ≤
 * β = 0.001.
 *
 * Sized tests, as in error-rates-correct.test.ts: 33 000 runs each, failing above 47 false
 * passes (rate 0.001: P(> 47) = 0.0083; rate 0.002: P(≤ 47) = 0.0087), on the labs where a
 * false pass is likeliest: i.i.d. answers at exactly the nearest wrong ratio (2:1 and 4:1
 * for 3:1; 2:1 for 1:1). A wrong ratio further out passes less often still (the sequential
 * test's operating characteristic is monotone for two backends). The other scenarios are
 * measurements with fewer runs. Deterministic schedulers: exhaustive.test.ts.
 */
import { afterAll, describe, expect, it } from "vitest";
import { formatResults, iid, interleaved, runScenario, schedulerOrder, sizeRateTest, type Scenario, type ScenarioResult } from "./simulate.js";

const sizing = sizeRateTest(0.001);

const sized: Scenario[] = [
  { name: "i.i.d. 2:1, expected 3:1", expected: [3, 1], source: iid([2, 1]), truth: "fail", runs: sizing.runs },
  { name: "i.i.d. 4:1, expected 3:1", expected: [3, 1], source: iid([4, 1]), truth: "fail", runs: sizing.runs },
  { name: "i.i.d. 2:1, expected 1:1", expected: [1, 1], source: iid([2, 1]), truth: "fail", runs: sizing.runs },
];

const measured: Scenario[] = [
  { name: "i.i.d. 1:1 (weights ignored), expected 3:1", expected: [3, 1], source: iid([1, 1]), truth: "fail", runs: 3_000 },
  { name: "i.i.d. 3:2, expected 3:1", expected: [3, 1], source: iid([3, 2]), truth: "fail", runs: 3_000 },
  { name: "i.i.d. 1:3 (swapped), expected 3:1", expected: [3, 1], source: iid([1, 3]), truth: "fail", runs: 3_000 },
  { name: "one backend only, expected 3:1", expected: [3, 1], source: iid([1, 0]), truth: "fail", runs: 3_000 },
  { name: "i.i.d. 10:1 (beyond 4:1), expected 3:1", expected: [3, 1], source: iid([10, 1]), truth: "fail", runs: 3_000 },
  { name: "LVS 2:1, 5 % of turns to others, expected 3:1", expected: [3, 1], source: interleaved(schedulerOrder("lvs-wrr", [2, 1]), 0.05), truth: "fail", runs: 2_000 },
  { name: "i.i.d. 3:1, expected 2:1", expected: [2, 1], source: iid([3, 1]), truth: "fail", runs: 5_000 },
  { name: "i.i.d. 1:1, expected 2:1", expected: [2, 1], source: iid([1, 1]), truth: "fail", runs: 5_000 },
  { name: "i.i.d. 1:1:0 (one missing), expected 1:1:1", expected: [1, 1, 1], source: iid([1, 1, 0]), truth: "fail", runs: 3_000 },
  { name: "i.i.d. 2:1:1, expected 1:1:1", expected: [1, 1, 1], source: iid([2, 1, 1]), truth: "fail", runs: 3_000 },
];

const results: ScenarioResult[] = [];

describe("false-pass rate on wrong labs (β = 0.001)", () => {
  for (const [index, scenario] of sized.entries()) {
    it(`sized for twice the claim: ${scenario.name}, ${sizing.runs} runs, at most ${sizing.threshold} passes`, async () => {
      const result = await runScenario(scenario, 5000 + index);
      results.push(result);
      expect(result.pass, `${scenario.name}: ${result.pass} passes in ${result.runs}`).toBeLessThanOrEqual(sizing.threshold);
      expect(result.fail / result.runs).toBeGreaterThanOrEqual(0.99);
    });
  }

  for (const [index, scenario] of measured.entries()) {
    it(`measured: ${scenario.name}`, async () => {
      const result = await runScenario(scenario, 6000 + index);
      results.push(result);
      expect(result.consistencyPValue, `${scenario.name}: ${result.pass} passes in ${result.runs}`).toBeGreaterThan(0.001);
      expect(result.fail / result.runs, `${scenario.name}: fail share`).toBeGreaterThanOrEqual(0.99);
    });
  }
});

afterAll(() => {
  const runs = results.reduce((s, r) => s + r.runs, 0);
  const passes = results.reduce((s, r) => s + r.pass, 0);
  console.log(`${formatResults("Wrong labs (wrong = pass)", results)}\npooled: ${passes} passes in ${runs} verdicts on random sequences`);
});
