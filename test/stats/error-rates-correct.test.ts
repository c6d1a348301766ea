/**
 * False-fail rate of the ratio decider on CORRECT labs with random schedulers, measured by
 * simulation with fixed seeds. Claim: P(fail | correct lab) ≤ α = 0.001.
 *
 * Sized tests (sizing.test.ts shows the sizing works): on the labs where false fails are
 * likeliest (i.i.d. answers at exactly the expected shares: 1:1, and the lab text's 3:1),
 * 33 000 runs each, and the test fails above 47 false fails. Wrong verdicts are
 * Binomial(33 000, rate); at rate 0.001 more than 47 happen with probability 0.0083, at 0.002
 * at most 47 happen with probability 0.0087 (sizeRateTest computes both from the binomial).
 * So a decider that kept its claim fails this test less than 1 time in 100, and one that
 * erred twice as often as claimed passes it less than 1 time in 100.
 *
 * The other scenarios are measurements with fewer runs: each must be consistent with the
 * claim (P(X ≥ count | 0.001) > 0.001) and decide nearly always. Deterministic schedulers
 * are not here: a lone client on rr/wrr/byrequests is replayed exhaustively, every weight
 * vector and phase, in exhaustive.test.ts; random phases of the same few cycles would count
 * the same sequence thousands of times.
 */
import { afterAll, describe, expect, it } from "vitest";
import { formatResults, iid, interleaved, reordered, runScenario, schedulerOrder, sizeRateTest, withErrors, type Scenario, type ScenarioResult } from "./simulate.js";

const sizing = sizeRateTest(0.001);

const sized: Scenario[] = [
  { name: "i.i.d. 1:1", expected: [1, 1], source: iid([1, 1]), truth: "pass", runs: sizing.runs },
  { name: "i.i.d. 3:1", expected: [3, 1], source: iid([3, 1]), truth: "pass", runs: sizing.runs },
];

const measured: Scenario[] = [
  { name: "i.i.d. 2:1", expected: [2, 1], source: iid([2, 1]), truth: "pass", runs: 5_000 },
  { name: "i.i.d. 1:1:1", expected: [1, 1, 1], source: iid([1, 1, 1]), truth: "pass", runs: 3_000 },
  { name: "i.i.d. 3:1, 2 % errors", expected: [3, 1], source: withErrors(iid([3, 1]), 0.02), truth: "pass", runs: 2_000 },
  { name: "Apache 1:1, 20 % of turns to other clients", expected: [1, 1], source: interleaved(schedulerOrder("apache-byrequests", [1, 1]), 0.2), truth: "pass", runs: 3_000 },
  { name: "LVS 3:1, 5 % of turns to other clients", expected: [3, 1], source: interleaved(schedulerOrder("lvs-wrr", [3, 1]), 0.05), truth: "pass", runs: 3_000 },
  { name: "Apache 3:1, 50 % of turns to other clients", expected: [3, 1], source: interleaved(schedulerOrder("apache-byrequests", [3, 1]), 0.5), truth: "pass", runs: 2_000 },
  { name: "Apache 3:1, 10 % neighbours swapped (concurrency)", expected: [3, 1], source: reordered(schedulerOrder("apache-byrequests", [3, 1]), 0.1), truth: "pass", runs: 3_000 },
  { name: "Apache 2:1, 30 % neighbours swapped", expected: [2, 1], source: reordered(schedulerOrder("apache-byrequests", [2, 1]), 0.3), truth: "pass", runs: 2_000 },
];

const results: ScenarioResult[] = [];

describe("false-fail rate on correct labs (α = 0.001)", () => {
  for (const [index, scenario] of sized.entries()) {
    it(`sized for twice the claim: ${scenario.name}, ${sizing.runs} runs, at most ${sizing.threshold} fails`, async () => {
      const result = await runScenario(scenario, 2000 + index);
      results.push(result);
      expect(result.fail, `${scenario.name}: ${result.fail} fails in ${result.runs}`).toBeLessThanOrEqual(sizing.threshold);
      expect(result.pass / result.runs).toBeGreaterThanOrEqual(0.99);
    });
  }

  for (const [index, scenario] of measured.entries()) {
    it(`measured: ${scenario.name}`, async () => {
      const result = await runScenario(scenario, 3000 + index);
      results.push(result);
      expect(result.consistencyPValue, `${scenario.name}: ${result.fail} fails in ${result.runs}`).toBeGreaterThan(0.001);
      expect(result.pass / result.runs, `${scenario.name}: pass share`).toBeGreaterThanOrEqual(0.99);
    });
  }

  it("a random 3:1 lab is never passed within the default budget of 400 requests", () => {
    const threeToOne = results.find((r) => r.name === "i.i.d. 3:1");
    expect(threeToOne).toBeDefined();
    // Every pass used more than 400 answers (sizing.test.ts: no sequence of 400 can pass it).
    expect(threeToOne?.minPassN).toBeGreaterThan(400);
  });
});

afterAll(() => {
  const runs = results.reduce((s, r) => s + r.runs, 0);
  const fails = results.reduce((s, r) => s + r.fail, 0);
  console.log(`${formatResults("Correct labs (wrong = fail)", results)}\npooled: ${fails} fails in ${runs} verdicts on random sequences`);
});
