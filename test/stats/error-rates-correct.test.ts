/**
 * False-fail rate of decideRatio on CORRECT labs, measured by simulation with fixed seeds.
 * Requirement: P(fail | correct lab) ≤ α = 0.001. The measured counts and their 95 % upper
 * bounds are printed as a table (docs/statistics.md quotes them).
 */
import { afterAll, describe, expect, it } from "vitest";
import { apacheCycle, formatResults, iid, interleaved, lvsCycle, reordered, runScenario, withErrors, cycle, type Scenario, type ScenarioResult } from "./simulate.js";

const e11 = { "1": 1, "2": 1 };
const e21 = { "1": 2, "2": 1 };
const e31 = { "1": 3, "2": 1 };
const e111 = { "1": 1, "2": 1, "3": 1 };

const deterministic: Scenario[] = [
  { name: "Apache 1:1 cycle, random phase", expected: e11, source: cycle(apacheCycle(e11)), truth: "pass", runs: 10_000 },
  { name: "Apache 3:1 cycle 1121, random phase", expected: e31, source: cycle(apacheCycle(e31)), truth: "pass", runs: 10_000 },
  { name: "LVS wrr 3:1 cycle 1112, random phase", expected: e31, source: cycle(lvsCycle(e31)), truth: "pass", runs: 10_000 },
  { name: "LVS wrr 2:1 cycle, random phase", expected: e21, source: cycle(lvsCycle(e21)), truth: "pass", runs: 10_000 },
  { name: "Apache 1:1:1 cycle, random phase", expected: e111, source: cycle(apacheCycle(e111)), truth: "pass", runs: 5_000 },
];

const random: Scenario[] = [
  { name: "i.i.d. 1:1", expected: e11, source: iid(e11), truth: "pass", runs: 20_000 },
  { name: "i.i.d. 2:1", expected: e21, source: iid(e21), truth: "pass", runs: 15_000 },
  { name: "i.i.d. 3:1", expected: e31, source: iid(e31), truth: "pass", runs: 20_000 },
  { name: "i.i.d. 1:1:1", expected: e111, source: iid(e111), truth: "pass", runs: 5_000 },
  { name: "i.i.d. 3:1, 2 % errors", expected: e31, source: withErrors(iid(e31), 0.02), truth: "pass", runs: 2_000 },
];

const disturbed: Scenario[] = [
  { name: "Apache 1:1, 20 % of turns to other clients", expected: e11, source: interleaved(apacheCycle(e11), 0.2), truth: "pass", runs: 5_000 },
  { name: "LVS 3:1, 5 % of turns to other clients", expected: e31, source: interleaved(lvsCycle(e31), 0.05), truth: "pass", runs: 5_000 },
  { name: "Apache 3:1, 50 % of turns to other clients", expected: e31, source: interleaved(apacheCycle(e31), 0.5), truth: "pass", runs: 3_000 },
  { name: "Apache 3:1, 10 % neighbours swapped (concurrency)", expected: e31, source: reordered(apacheCycle(e31), 0.1), truth: "pass", runs: 5_000 },
  { name: "Apache 2:1, 30 % neighbours swapped", expected: e21, source: reordered(apacheCycle(e21), 0.3), truth: "pass", runs: 3_000 },
];

const results: ScenarioResult[] = [];

function check(scenario: Scenario, seed: number): ScenarioResult {
  const result = runScenario(scenario, seed);
  results.push(result);
  // False fails must be consistent with a rate ≤ 0.001: at rate 0.001 a count this high has
  // probability > 0.001.
  expect(result.consistencyPValue, `${scenario.name}: ${result.fail} fails in ${result.runs}`).toBeGreaterThan(0.001);
  // And the test must actually decide: no budget-limited run is left hanging.
  expect(result.pass / result.runs, `${scenario.name}: pass share`).toBeGreaterThanOrEqual(0.99);
  return result;
}

describe("false-fail rate on correct labs (α = 0.001)", () => {
  for (const [index, scenario] of deterministic.entries()) {
    it(`deterministic: ${scenario.name}`, () => {
      const result = check(scenario, 1000 + index);
      // A lone client on a deterministic scheduler is decided exactly, once no other cycle of
      // up to 199 requests fits: 199 + p − 1 answers.
      expect(result.byCycle).toBe(result.runs);
      expect(result.fail).toBe(0);
      expect(result.maxN).toBeLessThanOrEqual(204);
    });
  }
  for (const [index, scenario] of random.entries()) {
    it(`random: ${scenario.name}`, () => {
      check(scenario, 2000 + index);
    });
  }
  for (const [index, scenario] of disturbed.entries()) {
    it(`disturbed cycle: ${scenario.name}`, () => {
      check(scenario, 3000 + index);
    });
  }

  it("pooled over all correct-lab scenarios", () => {
    const runs = results.reduce((s, r) => s + r.runs, 0);
    const fails = results.reduce((s, r) => s + r.fail, 0);
    expect(runs).toBeGreaterThanOrEqual(100_000);
    // Pooled: far below α (most scenarios have no close alternative on the fail side).
    expect(fails / runs).toBeLessThan(0.001);
  });
});

afterAll(() => {
  const runs = results.reduce((s, r) => s + r.runs, 0);
  const fails = results.reduce((s, r) => s + r.fail, 0);
  console.log(`${formatResults("Correct labs (wrong = fail)", results)}\npooled: ${fails} fails in ${runs} verdicts`);
});
