import { describe, expect, it } from "vitest";
import {
  apacheByrequestsOrder,
  createRandom,
  createRatioDecider,
  decideRatio,
  lvsWrrOrder,
  plausibleAlternatives,
  runSprt,
  StatsInputError,
  toWeightTable,
  type RatioVerdict,
} from "../../src/stats/index.js";

const labelsOf = (order: number[], labels = ["1", "2", "3"]): string[] => order.map((i) => labels[i] ?? "?");
const threeToOne = { "1": 3, "2": 1 };

function iidSequence(seed: number, shares: number[], length: number, labels = ["1", "2", "3"]): string[] {
  const random = createRandom(seed);
  return Array.from({ length }, () => labels[random.pick(shares)] ?? "?");
}

function expectPlainJson(verdict: RatioVerdict): void {
  expect(JSON.parse(JSON.stringify(verdict))).toEqual(verdict);
}

describe("plausible alternatives", () => {
  it("for 3:1: one-off neighbours, equal, swapped and single backends", () => {
    const names = plausibleAlternatives(toWeightTable(threeToOne)).map((a) => `${a.name}/${a.kind}`);
    expect(names.sort()).toEqual(["0:1/only", "1:0/only", "1:1/equal", "1:3/swapped", "2:1/neighbour", "3:2/neighbour", "4:1/neighbour"].sort());
  });

  it("for 1:1: 2:1, 1:2 and single backends, never 1:1 itself", () => {
    const names = plausibleAlternatives(toWeightTable({ a: 1, b: 1 })).map((a) => a.name);
    expect(names.sort()).toEqual(["0:1", "1:0", "1:2", "2:1"]);
  });

  it("steps a third of large weights so the alternatives stay separable", () => {
    const names = plausibleAlternatives(toWeightTable({ "1": 100, "2": 1 })).map((a) => a.name);
    expect(names).toContain("67:1");
    expect(names).toContain("133:1");
    expect(names).not.toContain("99:1");
  });
});

describe("decideRatio on deterministic schedulers", () => {
  it("a lone client on the lab's ratios: 200, 201, 202 answers; 28, 42, 56 when the IPVS table bounds the cycle", () => {
    const cases: [number[], number, number][] = [
      [[1, 1], 200, 28],
      [[2, 1], 201, 42],
      [[3, 1], 202, 56],
    ];
    for (const [weights, unbounded, bounded] of cases) {
      const expected = { "1": weights[0] ?? 1, "2": weights[1] ?? 1 };
      const sequence = labelsOf(lvsWrrOrder(weights, 400));
      const cycle = weights.reduce((a, b) => a + b, 0);
      expect(decideRatio(sequence, expected)).toMatchObject({ method: "exact-cycle", outcome: "pass", n: unbounded });
      expect(decideRatio(sequence, expected, { maxCycle: cycle })).toMatchObject({ method: "exact-cycle", outcome: "pass", n: bounded });
    }
  });

  it("passes Apache 3:1 by exact cycle once no other cycle of up to 199 requests fits (202 answers)", () => {
    const verdict = decideRatio(labelsOf(apacheByrequestsOrder([3, 1], 400)), threeToOne);
    expect(verdict).toMatchObject({ method: "exact-cycle", outcome: "pass", reason: "cycle-matches", nOther: 0, maxCycle: 199 });
    expect(verdict.n).toBe(202);
    expect(verdict.explanation.en).toContain("no other cycle of up to 199 requests");
    expect(verdict.explanation.es).toContain("ningún otro ciclo de hasta 199 peticiones");
    expect(verdict.cycle?.cycle.join("")).toBe("1121");
    expect(verdict.cycle?.counts).toEqual({ "1": 3, "2": 1 });
    expect(verdict.explanation.en).toContain("expected 3:1");
    expect(verdict.explanation.es).toContain("esperado 3:1");
    expectPlainJson(verdict);
  });

  it("fails LVS rr (1:1) when 3:1 is expected, naming the configuration", () => {
    const verdict = decideRatio(labelsOf(lvsWrrOrder([1, 1], 400)), threeToOne);
    // The sequential test's fail counts at once: far from 3:1, it comes before the cycle rule.
    expect(verdict).toMatchObject({ method: "sprt", outcome: "fail", reason: "alternative-accepted", observedRatio: "1:1", alternative: { name: "1:1", kind: "equal" } });
    expect(verdict.n).toBeLessThan(100);
    expect(verdict.explanation.en).toMatch(/^observed 1:1 \(1=\d+, 2=\d+\) in \d+ requests, expected 3:1/);
    expect(verdict.explanation.es).toMatch(/^observado 1:1 \(1=\d+, 2=\d+\) en \d+ peticiones, esperado 3:1/);
  });

  it("fails one backend only", () => {
    const verdict = decideRatio(new Array<string>(400).fill("2"), threeToOne);
    expect(verdict).toMatchObject({ outcome: "fail", counts: { "1": 0, "2": verdict.n }, alternative: { name: "0:1", kind: "only" } });
    expect(verdict.n).toBeLessThan(60);
    expect(verdict.explanation.en).toContain("0:1 (only 2 answers)");
    expect(verdict.explanation.es).toContain("0:1 (solo responde 2)");
  });

  it("expected 1:1: Apache's alternation passes, 2:1 fails", () => {
    expect(decideRatio(labelsOf(apacheByrequestsOrder([1, 1], 400)), { "1": 1, "2": 1 })).toMatchObject({ method: "exact-cycle", outcome: "pass", n: 200 });
    expect(decideRatio(labelsOf(apacheByrequestsOrder([2, 1], 400)), { "1": 1, "2": 1 })).toMatchObject({ outcome: "fail" });
  });

  it("LVS wrr 14:39 never passes as 1:1, from any phase (it alternates for its first 28 requests)", () => {
    const order = lvsWrrOrder([14, 39], 53);
    for (let phase = 0; phase < 53; phase++) {
      const sequence = labelsOf(Array.from({ length: 400 }, (_, i) => order[(phase + i) % 53] ?? 0));
      expect(decideRatio(sequence, { "1": 1, "2": 1 }, { maxSamples: 400 }).outcome, `phase ${phase}`).toBe("fail");
    }
  });

  it("deterministic 8:3 fails as 3:1 by its exact cycle, even where the sequential test alone would pass it", () => {
    const cycle = labelsOf(apacheByrequestsOrder([8, 3], 2000));
    const verdict = decideRatio(cycle, threeToOne, { maxSamples: 2000 });
    expect(verdict).toMatchObject({ method: "exact-cycle", outcome: "fail", reason: "cycle-differs", cycle: { period: 11, counts: { "1": 8, "2": 3 } } });
    expect(decideRatio(cycle, threeToOne, { maxSamples: 2000, exactCycle: false })).toMatchObject({ method: "sprt", outcome: "pass" });
  });

  it("a sequential pass waits while the answers still repeat a short cycle: inconclusive below the cycle rule's length", () => {
    const verdict = decideRatio(labelsOf(apacheByrequestsOrder([1, 1], 400)), { "1": 1, "2": 1 }, { maxSamples: 150 });
    expect(verdict).toMatchObject({ outcome: "inconclusive", reason: "max-samples", n: 150, suggestedSamples: 200 });
    expect(verdict.explanation.en).toContain("the answers repeat a cycle of 2 requests");
    expect(verdict.explanation.en).toContain("sampling.maxRequests ≥ 200 decides it exactly");
    expect(verdict.explanation.es).toContain("las respuestas repiten un ciclo de 2 peticiones");
  });

  it("three backends: 1:1:1 passes, 2:1:1 fails, a missing backend fails", () => {
    const equal = { "1": 1, "2": 1, "3": 1 };
    expect(decideRatio(labelsOf(apacheByrequestsOrder([1, 1, 1], 300)), equal)).toMatchObject({ outcome: "pass", method: "exact-cycle" });
    expect(decideRatio(labelsOf(apacheByrequestsOrder([2, 1, 1], 300)), equal)).toMatchObject({ outcome: "fail" });
    const missing = decideRatio(labelsOf(apacheByrequestsOrder([1, 1], 300), ["1", "3"]), equal);
    expect(missing).toMatchObject({ outcome: "fail", counts: { "2": 0 } });
  });
});

describe("decideRatio on random schedulers (sequential test)", () => {
  it("passes i.i.d. 3:1 and reports LLRs, boundaries, CIs and an exact p-value", () => {
    const verdict = decideRatio(iidSequence(11, [3, 1], 6000), threeToOne, { maxSamples: 6000 });
    expect(verdict).toMatchObject({ method: "sprt", outcome: "pass", reason: "alternatives-rejected", pValueMethod: "exact-binomial" });
    expect(verdict.explanation.en).toContain("a lab at one of them passes with probability ≤ 0.001");
    expect(verdict.explanation.en).toContain("Ratios strictly between 2:1 and 4:1 are not told apart from 3:1.");
    expect(verdict.explanation.es).toContain("Los repartos estrictamente entre 2:1 y 4:1 no se distinguen de 3:1.");
    // The sequential test spends half of α and β (the rest is headroom and the cycle claims).
    expect(verdict.boundaries?.pass).toBeCloseTo(Math.log(1 / 0.0005), 9);
    expect(verdict.boundaries?.fail).toBeCloseTo(-Math.log(7 / 0.0005), 9);
    expect(verdict.llr?.["4:1"]).toBeGreaterThanOrEqual(verdict.boundaries?.pass ?? Infinity);
    // "only 2" is ruled out by the first answer from backend 1: its LLR is infinite, shown as null.
    expect(verdict.llr?.["0:1"]).toBeNull();
    const ci = verdict.ci.shares["1"]!;
    expect(ci[0]).toBeLessThan(0.75);
    expect(ci[1]).toBeGreaterThan(0.75);
    expect(verdict.pValue).toBeGreaterThan(0.001);
    expectPlainJson(verdict);
  });

  it("fails i.i.d. 2:1 against 3:1 with the decisive alternative 2:1", () => {
    const verdict = decideRatio(iidSequence(12, [2, 1], 6000), threeToOne, { maxSamples: 6000 });
    expect(verdict).toMatchObject({ method: "sprt", outcome: "fail", alternative: { name: "2:1" } });
    expect(verdict.llr?.["2:1"]).toBeLessThanOrEqual(verdict.boundaries?.fail ?? -Infinity);
    expect(verdict.explanation.en).toContain("the shares match 2:1");
    expect(verdict.explanation.es).toContain("el reparto corresponde a 2:1");
  });

  it("is inconclusive when the sample budget ends first, and says how many requests would decide", () => {
    const verdict = decideRatio(iidSequence(13, [3, 1], 400), threeToOne, { maxSamples: 400 });
    expect(verdict).toMatchObject({ outcome: "inconclusive", reason: "max-samples", n: 400 });
    expect(verdict.suggestedSamples).toBeGreaterThan(400);
    expect(verdict.explanation.en).toContain("cannot yet be told from");
    expect(verdict.alternative).toBeUndefined();
  });

  it("a random 1:1 passes only once its answers stop repeating any cycle of up to 199 requests", () => {
    const verdict = decideRatio(iidSequence(21, [1, 1], 4000), { "1": 1, "2": 1 }, { maxSamples: 4000 });
    expect(verdict).toMatchObject({ method: "sprt", outcome: "pass" });
    expect(verdict.n).toBeGreaterThanOrEqual(200);
  });

  it("runSprt reports shares, intervals, p-value and the decisive alternative", () => {
    const run = runSprt(iidSequence(19, [2, 1], 5000), threeToOne);
    expect(run).toMatchObject({ state: "fail", exhausted: false, pValueMethod: "exact-binomial", expectedShares: { "1": 0.75, "2": 0.25 } });
    expect(run.alternatives[run.decisive ?? -1]?.decision).toBe("accepted");
    expect(run.observedShares["1"]).toBeCloseTo(run.counts["1"]! / run.nValid, 12);
    expect(run.ci.shares["1"]![0]).toBeLessThan(run.observedShares["1"]!);
    expect(run.pValue).toBeLessThan(0.05);
  });

  it("runSprt alone gives continue/pass/fail states", () => {
    expect(runSprt(iidSequence(14, [1, 1], 3000), { a: 1, b: 1 }, {}).state).toBe("continue");
    expect(runSprt(iidSequence(14, [1, 1], 3000, ["a", "b"]), { a: 1, b: 1 }, {}).state).toBe("pass");
    expect(runSprt(iidSequence(15, [3, 1], 3000, ["a", "b"]), { a: 1, b: 1 }, {}).state).toBe("fail");
  });
});

describe("errors and unknown pages", () => {
  it("all errors: inconclusive after the allowance, never a ratio", () => {
    const verdict = decideRatio(new Array<string>(400).fill("error"), threeToOne);
    // Five errors are tolerated on top of 10 %: the sixth in six requests stops the test.
    expect(verdict).toMatchObject({ outcome: "inconclusive", reason: "too-many-errors", n: 6, nValid: 0, nOther: 6, otherCounts: { error: 6 } });
    expect(verdict.pValue).toBeUndefined();
    expect(verdict.explanation.en).toContain("none of the 6 requests reached a known web server");
    expect(verdict.explanation.es).toContain("ninguna de las 6 peticiones");
    expectPlainJson(verdict);
  });

  it("a few errors are counted apart and reported, the ratio is still judged", () => {
    const sequence = labelsOf(apacheByrequestsOrder([3, 1], 3000));
    sequence[10] = "error";
    sequence[500] = "webserver3";
    const verdict = decideRatio(sequence, threeToOne, { maxSamples: 3000 });
    // The errors break the exact cycle; the sequential test decides instead.
    expect(verdict).toMatchObject({ method: "sprt", outcome: "pass", nOther: 2, otherCounts: { error: 1, webserver3: 1 } });
    expect(verdict.nValid).toBe(verdict.n - 2);
    expect(verdict.explanation.en).toContain("2 requests failed or showed an unknown page (error=1, webserver3=1)");
  });

  it("an error in every cycle fails by exact cycle when errors are tolerated", () => {
    const sequence = "12E".repeat(100).split("").map((label) => (label === "E" ? "error" : label));
    const verdict = decideRatio(sequence, { "1": 1, "2": 1 }, { maxOtherShare: 1 });
    expect(verdict).toMatchObject({ method: "exact-cycle", outcome: "fail", cycle: { otherCounts: { error: 1 }, proportional: false } });
    expect(verdict.explanation.en).toContain("every cycle holds requests that fail");
  });

  it("too many errors among answers stops the test as inconclusive", () => {
    const random = createRandom(16);
    const sequence = Array.from({ length: 2000 }, () => (random.next() < 0.3 ? "error" : random.next() < 0.75 ? "1" : "2"));
    const verdict = decideRatio(sequence, threeToOne, { maxSamples: 2000 });
    expect(verdict).toMatchObject({ outcome: "inconclusive", reason: "too-many-errors" });
    expect(verdict.n).toBeLessThan(100);
  });
});

describe("createRatioDecider", () => {
  it("stops at the decision and keeps returning it", () => {
    const decider = createRatioDecider(threeToOne, { maxSamples: 400 });
    const order = labelsOf(apacheByrequestsOrder([3, 1], 400));
    let pushed = 0;
    let step = decider.push(order[pushed++] ?? "");
    while (step.state === "continue") step = decider.push(order[pushed++] ?? "");
    expect(step.verdict.n).toBe(pushed);
    expect(decider.push("2")).toEqual(step);
    expect(decider.n).toBe(pushed);
    expect(decider.finish()).toBe(step.verdict);
  });

  it("finish before a decision is inconclusive", () => {
    const decider = createRatioDecider(threeToOne, { maxSamples: 400 });
    for (const label of ["1", "1", "2"]) decider.push(label);
    expect(decider.finish()).toMatchObject({ outcome: "inconclusive", reason: "stopped", n: 3 });
    expect(decider.verdict).toBeUndefined();
  });

  it("decides on reaching maxSamples", () => {
    const decider = createRatioDecider(threeToOne, { maxSamples: 10 });
    const steps = iidSequence(17, [3, 1], 10).map((label) => decider.push(label));
    expect(steps.slice(0, 9).every((s) => s.state === "continue")).toBe(true);
    expect(steps[9]).toMatchObject({ state: "decided", verdict: { outcome: "inconclusive", reason: "max-samples" } });
  });

  it("accepts caller-given alternatives", () => {
    const sequence = iidSequence(18, [3, 1], 4000);
    const coarse = decideRatio(sequence, threeToOne, { maxSamples: 4000, alternatives: [{ "1": 1, "2": 1 }] });
    const fine = decideRatio(sequence, threeToOne, { maxSamples: 4000 });
    expect(coarse.alternatives?.map((a) => a.name)).toEqual(["1:1"]);
    expect(coarse.outcome).toBe("pass");
    expect(fine.outcome).toBe("pass");
    // Ruling out 1:1 alone takes far fewer requests than ruling out 2:1 and 4:1 as well.
    expect(coarse.n * 3).toBeLessThan(fine.n);
  });

  it("rejects impossible weights with the field named", () => {
    expect(() => createRatioDecider({ "1": 3, "2": 0 })).toThrow(StatsInputError);
    expect(() => createRatioDecider({ "1": 3, "2": 0 })).toThrow(/expectedWeights\.2/);
    expect(() => createRatioDecider({ "1": 3 })).toThrow(/at least 2/);
    expect(() => decideRatio([], threeToOne, { alternatives: [{ "9": 1 }] })).toThrow(/alternatives\[0\]\.9/);
  });
});
