import { describe, expect, it } from "vitest";
import { CycleBound, cycleBoundFor, findExactCycle, PeriodTracker, plausibleAlternatives, toWeightTable } from "../../src/stats/index.js";

const repeat = (cycle: string, times: number): string[] => cycle.repeat(times).split("");
const rotations = (cycle: string): string[] => [...cycle].map((_, i) => cycle.slice(i) + cycle.slice(0, i));

describe("PeriodTracker", () => {
  it("finds the shortest period of every prefix", () => {
    const tracker = new PeriodTracker();
    const periods: number[] = [];
    for (const label of "112111211121") {
      tracker.push(label);
      periods.push(tracker.period);
    }
    // 1 → 1, 11 → 1, 112 → 3, 1121 → 3, 11211 → 3, 112111 → 4 (…the cycle), then 4.
    expect(periods).toEqual([1, 1, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4]);
    expect(tracker.cycle()).toEqual(["1", "1", "2", "1"]);
  });

  it("treats error labels as labels of their own", () => {
    const tracker = new PeriodTracker();
    for (const label of ["1", "error", "1", "error", "1", "error"]) tracker.push(label);
    expect(tracker.period).toBe(2);
    expect(tracker.cycle()).toEqual(["1", "error"]);
  });
});

describe("findExactCycle", () => {
  const threeToOne = { "1": 3, "2": 1 };

  it("finds Apache's smooth 3:1 cycle 1121 from any phase", () => {
    for (const phase of rotations("1121")) {
      const result = findExactCycle(repeat(phase, 51), threeToOne);
      expect(result.found, phase).toBe(true);
      if (!result.found) continue;
      expect(result.period).toBe(4);
      expect(result.cycle.join("")).toBe(phase);
      expect(result.counts).toEqual({ "1": 3, "2": 1 });
      expect(result.proportional).toBe(true);
      expect(result.repetitions).toBe(51);
    }
  });

  it("finds the LVS wrr 3:1 pattern 2,1,1,1 (LAB-FACTS) as proportional", () => {
    const result = findExactCycle(repeat("2111", 51), threeToOne);
    expect(result).toMatchObject({ found: true, period: 4, cycle: ["2", "1", "1", "1"], proportional: true });
  });

  it("reports a 1:1 cycle against expected 3:1 as found but not proportional", () => {
    const result = findExactCycle(repeat("12", 101), threeToOne);
    expect(result).toMatchObject({ found: true, period: 2, counts: { "1": 1, "2": 1 }, proportional: false });
  });

  it("reports one backend only as a period-1 cycle, not proportional", () => {
    const result = findExactCycle(repeat("1", 200), threeToOne);
    expect(result).toMatchObject({ found: true, period: 1, counts: { "1": 1, "2": 0 }, proportional: false });
  });

  it("does not believe a cycle before the bound's length", () => {
    const short = findExactCycle(repeat("1121", 5), threeToOne);
    expect(short).toMatchObject({ found: false, reason: "too-short", shortestPeriod: 4 });
    if (short.found) return;
    // Fine–Wilf: every cycle up to 199 requests must be ruled out, 199 + 4 − 1 answers.
    expect(short.requiredLength).toBe(202);
    const enough = findExactCycle(repeat("1121", 60).slice(0, short.requiredLength), threeToOne);
    expect(enough.found).toBe(true);
    const oneLess = findExactCycle(repeat("1121", 60).slice(0, (short.requiredLength ?? 1) - 1), threeToOne);
    expect(oneLess.found).toBe(false);
  });

  it("never calls a cycle with one shifted request exact", () => {
    const clean = repeat("1121", 80);
    const removed = [...clean.slice(0, 50), ...clean.slice(51)];
    expect(findExactCycle(removed, threeToOne)).toMatchObject({ found: false, reason: "no-repeat" });
    const swapped = [...clean];
    [swapped[70], swapped[71]] = [swapped[71] ?? "", swapped[70] ?? ""];
    expect(swapped.join("")).not.toBe(clean.join(""));
    expect(findExactCycle(swapped, threeToOne)).toMatchObject({ found: false, reason: "no-repeat" });
    const errorInside = [...clean];
    errorInside[90] = "error";
    expect(findExactCycle(errorInside, threeToOne)).toMatchObject({ found: false });
  });

  it("reports a cycle holding an error in every turn as not proportional", () => {
    const result = findExactCycle(repeat("12E", 70).map((l) => (l === "E" ? "error" : l)), { "1": 1, "2": 1 });
    expect(result).toMatchObject({ found: true, period: 3, otherCounts: { error: 1 }, proportional: false });
  });

  it("finds a three-backend round robin", () => {
    const result = findExactCycle(repeat("231", 70), { "1": 1, "2": 1, "3": 1 });
    expect(result).toMatchObject({ found: true, period: 3, proportional: true });
  });
});

describe("CycleBound", () => {
  it("computes the exact chance that i.i.d. draws are p-periodic (checked by enumeration)", () => {
    const shares = [0.75, 0.25];
    const bound = new CycleBound({ delta: 0.5, sources: [shares] });
    for (const [period, length] of [
      [1, 5],
      [2, 6],
      [2, 7],
      [3, 8],
    ] as const) {
      let total = 0;
      for (let mask = 0; mask < 1 << length; mask++) {
        let periodic = true;
        let probability = 1;
        for (let i = 0; i < length; i++) {
          const bit = (mask >> i) & 1;
          probability *= shares[bit] ?? 0;
          if (i >= period && bit !== ((mask >> (i - period)) & 1)) periodic = false;
        }
        if (periodic) total += probability;
      }
      expect(Math.exp(bound.logChance(period, length))).toBeCloseTo(total, 12);
    }
  });

  it("requires the smallest length whose chance is within the period's budget", () => {
    const table = toWeightTable({ "1": 3, "2": 1 });
    const bound = cycleBoundFor(table, plausibleAlternatives(table), 1e-4);
    for (let period = 1; period <= bound.maxPeriod; period++) {
      const length = bound.requiredLength(period);
      expect(bound.logChance(period, length)).toBeLessThanOrEqual(bound.logBudget(period));
      expect(length).toBeGreaterThanOrEqual(3 * period);
      expect(length).toBeGreaterThanOrEqual(bound.maxPeriod + period - 1);
      if (length > Math.max(3 * period, bound.maxPeriod + period - 1)) {
        expect(bound.logChance(period, length - 1)).toBeGreaterThan(bound.logBudget(period));
      }
    }
    expect(bound.requiredLength(bound.maxPeriod + 1)).toBe(Infinity);
  });

  it("keeps the total chance of a false cycle claim under δ", () => {
    const table = toWeightTable({ "1": 1, "2": 1 });
    const bound = cycleBoundFor(table, plausibleAlternatives(table), 1e-4);
    let total = 0;
    for (let period = 1; period <= bound.maxPeriod; period++) total += Math.exp(bound.logChance(period, bound.requiredLength(period)));
    expect(total).toBeLessThanOrEqual(1e-4);
  });
});
