/**
 * The error-rate tests are sized to catch a decider that errs twice as often as claimed
 * (error-rates-*.test.ts). Here: the sizing itself, from the binomial, and the same harness
 * run with stand-in deciders that err at exactly the claim and at twice it.
 */
import { describe, expect, it } from "vitest";
import { binomialUpperTail, createRandom, type RatioDecision } from "../../src/stats/index.js";
import { binomialLowerTail } from "../../src/stats/distributions.js";
import { iid, runScenario, sizeRateTest, type DeciderFactory, type Scenario } from "./simulate.js";

const claim = 0.001;
const sizing = sizeRateTest(claim);

/**
 * A stand-in decider: decides after one answer, and gets it wrong (fails a correct lab) with
 * probability `rate`, from its own seeded stream.
 */
function errsAt(rate: number, seed: number): DeciderFactory {
  const random = createRandom(seed);
  return () => ({
    push(): RatioDecision {
      return { method: "sprt", outcome: random.next() < rate ? "fail" : "pass", reason: "alternatives-rejected", n: 1 };
    },
  });
}

/** The check every sized test makes. */
const withinClaim = (wrong: number): boolean => wrong <= sizing.threshold;

describe("error-rate tests sized for twice the claim", () => {
  it("33 000 runs and at most 47 wrong verdicts: false alarm and miss both below 1 %", () => {
    expect(sizing).toMatchObject({ runs: 33_000, threshold: 47 });
    expect(binomialUpperTail(sizing.threshold + 1, sizing.runs, claim)).toBeLessThanOrEqual(0.01);
    expect(binomialLowerTail(sizing.threshold, sizing.runs, 2 * claim)).toBeLessThanOrEqual(0.01);
    // The smallest such run count: 1000 fewer runs cannot do both.
    const fewer = sizing.runs - 1000;
    let threshold = Math.floor(fewer * claim);
    while (binomialUpperTail(threshold + 1, fewer, claim) > 0.01) threshold++;
    expect(binomialLowerTail(threshold, fewer, 2 * claim)).toBeGreaterThan(0.01);
  });

  it("the harness fails a decider that errs at twice the claim, and passes one that errs at the claim", async () => {
    const scenario: Scenario = { name: "correct lab", expected: [3, 1], source: iid([3, 1]), truth: "pass", runs: sizing.runs };
    const trials = 100;
    let caught = 0;
    let kept = 0;
    for (let t = 0; t < trials; t++) {
      const doubled = await runScenario(scenario, t, errsAt(2 * claim, 10_000 + t));
      if (!withinClaim(doubled.wrong)) caught++;
      const honest = await runScenario(scenario, t, errsAt(claim, 20_000 + t));
      if (withinClaim(honest.wrong)) kept++;
    }
    // Each is 99 % by design; 100 independent trials stay above 95 with probability > 0.99.
    expect(caught).toBeGreaterThanOrEqual(95);
    expect(kept).toBeGreaterThanOrEqual(95);
  });
});
