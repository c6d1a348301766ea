/**
 * The indifference zone of the sequential test (src/stats/zone.ts), computed and then measured
 * on the real decider: random labs (i.i.d. answers) at true ratios inside the zone pass as the
 * expected ratio, given the requests, and those outside fail; how many requests each needs,
 * and what the default budget (400) and 2 000 decide. The printed table is the one
 * docs/statistics.md and the README quote. Fixed seeds.
 */
import { afterAll, describe, expect, it } from "vitest";
import { labSpecSchema } from "../../src/config/schema.js";
import { createRandom, createRatioDecider, decisionPlan, indifferenceZone, type Weights } from "../../src/stats/index.js";

const budget = labSpecSchema.shape.sampling.parse(undefined).maxRequests;
const RUNS = 200;
const CAP = 20_000;

interface Measured {
  expected: string;
  truth: number;
  pass: number;
  fail: number;
  /** Still undecided after CAP answers. */
  open: number;
  passAt: (n: number) => number;
  failAt: (n: number) => number;
  /** Answers within which 95 % of the runs decided (undefined when more than 5 % did not within CAP). */
  p95: number | undefined;
  median: number | undefined;
}

function measure(expected: [number, number], truth: number, seed: number): Measured {
  const weights: Weights = { "1": expected[0], "2": expected[1] };
  const share = truth / (1 + truth);
  const random = createRandom(seed);
  const runs: { outcome: string; n: number }[] = [];
  for (let run = 0; run < RUNS; run++) {
    const decider = createRatioDecider(weights, { maxSamples: CAP });
    let decided: { outcome: string; n: number } = { outcome: "inconclusive", n: CAP + 1 };
    for (let i = 0; i < CAP; i++) {
      const step = decider.pushIndex(random.next() < share ? 0 : 1);
      if (step.state === "decided") {
        decided = { outcome: step.decision.outcome, n: step.decision.n };
        break;
      }
    }
    if (decided.outcome === "inconclusive") decided = { outcome: "inconclusive", n: CAP + 1 };
    runs.push(decided);
  }
  const ns = runs.map((r) => r.n).sort((a, b) => a - b);
  const q = (x: number) => {
    const n = ns[Math.min(ns.length - 1, Math.ceil(x * ns.length) - 1)] ?? CAP + 1;
    return n > CAP ? undefined : n;
  };
  const share_ = (outcome: string, n = CAP) => runs.filter((r) => r.outcome === outcome && r.n <= n).length / RUNS;
  return {
    expected: expected.join(":"),
    truth,
    pass: share_("pass"),
    fail: share_("fail"),
    open: share_("inconclusive", CAP + 1),
    passAt: (n) => share_("pass", n),
    failAt: (n) => share_("fail", n),
    p95: q(0.95),
    median: q(0.5),
  };
}

const rows: Measured[] = [];
const lines: string[] = [];
const pct = (x: number) => `${Math.round(100 * x)} %`;

function zoneOf(expected: [number, number]) {
  const plan = decisionPlan({ "1": expected[0], "2": expected[1] });
  const zone = indifferenceZone(plan.table, plan.alternatives);
  if (!zone) throw new Error("two backends have a zone");
  return zone;
}

describe("the indifference zone of the sequential test", () => {
  it("is where every alternative's log-likelihood ratio drifts up: 1:1.41 to 1.41:1 for 1:1, 2.44:1 to 3.46:1 for 3:1", () => {
    const one = zoneOf([1, 1]);
    expect(one.highRatio).toBeCloseTo(1.41, 2);
    expect(one.lowRatio).toBeCloseTo(1 / 1.41, 2);
    expect([one.lowAlternative, one.highAlternative]).toEqual(["1:2", "2:1"]);
    const three = zoneOf([3, 1]);
    expect(three.lowRatio).toBeCloseTo(2.44, 2);
    expect(three.highRatio).toBeCloseTo(3.46, 2);
    expect([three.lowAlternative, three.highAlternative]).toEqual(["2:1", "4:1"]);
    const two = zoneOf([2, 1]);
    for (const [name, zone] of [["1:1", one], ["2:1", two], ["3:1", three]] as const) {
      lines.push(`expected ${name}: indifference zone ${zone.lowRatio.toFixed(2)}:1 to ${zone.highRatio.toFixed(2)}:1 (between ${zone.lowAlternative} and ${zone.highAlternative})`);
    }
  });

  const cases: { expected: [number, number]; truths: number[] }[] = [
    { expected: [1, 1], truths: [1, 1.2, 1.3, 1.5, 1.7, 2] },
    { expected: [3, 1], truths: [2, 2.3, 2.5, 2.7, 3, 3.3, 3.8, 4] },
  ];
  for (const [c, { expected, truths }] of cases.entries()) {
    it(`expected ${expected.join(":")}: random labs inside the zone pass, outside fail (${RUNS} runs each, up to ${CAP} requests)`, () => {
      const zone = zoneOf(expected);
      for (const [t, truth] of truths.entries()) {
        const m = measure(expected, truth, 7000 + 100 * c + t);
        rows.push(m);
        const where = `true ${truth}:1, expected ${m.expected}`;
        // Away from the edges (by 8 %) the drift decides it; near an edge either verdict comes.
        if (truth >= zone.lowRatio * 1.08 && truth <= zone.highRatio / 1.08) expect(m.pass, where).toBeGreaterThanOrEqual(0.9);
        else if (truth <= zone.lowRatio / 1.08 || truth >= zone.highRatio * 1.08) expect(m.fail, where).toBeGreaterThanOrEqual(0.9);
      }
    });
  }

  it(`at the default budget (${budget}) a random 3:1 lab never passes, and 1.3:1 passes as 1:1`, () => {
    const three = rows.find((r) => r.expected === "3:1" && r.truth === 3);
    const near = rows.find((r) => r.expected === "1:1" && r.truth === 1.3);
    expect(three?.passAt(budget)).toBe(0);
    // Inconclusive, but for a false fail now and then (α, measured in error-rates-correct.test.ts).
    expect(three?.failAt(budget)).toBeLessThanOrEqual(0.01);
    expect(near?.passAt(budget)).toBeGreaterThan(0.25);
  });

  it("a random 2.5:1 lab passes as 3:1 in about half the runs at 2 000 requests", () => {
    const m = rows.find((r) => r.expected === "3:1" && r.truth === 2.5);
    expect(m?.passAt(2000)).toBeGreaterThan(0.25);
    expect(m?.failAt(2000)).toBeLessThan(0.25);
  });
});

afterAll(() => {
  lines.push(`| expected | true ratio (i.i.d.) | pass / fail @${budget} | pass / fail @2000 | pass / fail @${CAP} | median n | 95 % decided by |`);
  lines.push("|---|---|---|---|---|---|---|");
  for (const r of rows) {
    lines.push(
      `| ${r.expected} | ${r.truth}:1 | ${pct(r.passAt(budget))} / ${pct(r.failAt(budget))} | ${pct(r.passAt(2000))} / ${pct(r.failAt(2000))} | ${pct(r.pass)} / ${pct(r.fail)} | ${r.median ?? `> ${CAP}`} | ${r.p95 ?? `> ${CAP}`} |`,
    );
  }
  console.log(lines.join("\n"));
});
