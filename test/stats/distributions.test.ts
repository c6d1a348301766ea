import { describe, expect, it } from "vitest";
import {
  binomialTwoSidedPValue,
  binomialUpperTail,
  clopperPearsonUpper,
  fixedSampleSize,
  sharesPValue,
  wilsonInterval,
} from "../../src/stats/index.js";
import { chiSquareSurvival, logBinomialPmf, logGamma, normalQuantile } from "../../src/stats/distributions.js";

describe("distribution functions against published values", () => {
  it("log-gamma", () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(logGamma(101)).toBeCloseTo(363.73937555556347, 9);
  });

  it("normal quantiles", () => {
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 6);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232, 6);
    expect(normalQuantile(0.01)).toBeCloseTo(-2.326348, 6);
  });

  it("exact binomial test: R's binom.test(682, 925, p = 0.75) gives 0.3825", () => {
    expect(binomialTwoSidedPValue(682, 925, 0.75)).toBeCloseTo(0.3825, 4);
    expect(binomialTwoSidedPValue(7, 20, 0.5)).toBeCloseTo(0.2632, 4);
    expect(binomialTwoSidedPValue(300, 400, 0.75)).toBeCloseTo(1, 9);
    expect(binomialTwoSidedPValue(200, 300, 0.75)).toBeLessThan(0.002);
  });

  it("binomial two-sided p-value equals the brute-force sum", () => {
    for (const [k, n, p] of [
      [3, 30, 0.25],
      [40, 60, 0.75],
      [0, 12, 0.5],
      [12, 12, 0.6],
      [640, 1000, 0.75],
      // Far in the tail (relative to the mode below 1e-250): the log-space path.
      [200, 1000, 0.75],
    ] as const) {
      const target = logBinomialPmf(k, n, p);
      let sum = 0;
      for (let i = 0; i <= n; i++) {
        const v = logBinomialPmf(i, n, p);
        if (v <= target + 1e-7) sum += Math.exp(v - target);
      }
      const expected = Math.min(1, sum * Math.exp(target));
      const actual = binomialTwoSidedPValue(k, n, p);
      expect(actual).toBeGreaterThan(0);
      expect(Math.abs(actual - expected) / expected).toBeLessThan(1e-8);
    }
  });

  it("binomial upper tail", () => {
    expect(binomialUpperTail(1, 10, 0.5)).toBeCloseTo(1 - 0.5 ** 10, 12);
    expect(binomialUpperTail(10, 10, 0.5)).toBeCloseTo(0.5 ** 10, 14);
    expect(binomialUpperTail(0, 10, 0.5)).toBe(1);
  });

  it("Wilson intervals (0/10 and 5/10 at 95 %)", () => {
    const [lo0, hi0] = wilsonInterval(0, 10, 0.95);
    expect(lo0).toBe(0);
    expect(hi0).toBeCloseTo(0.27753, 5);
    const [lo5, hi5] = wilsonInterval(5, 10, 0.95);
    expect(lo5).toBeCloseTo(0.23659, 5);
    expect(hi5).toBeCloseTo(0.76341, 5);
    expect(wilsonInterval(0, 0, 0.95)).toEqual([0, 1]);
  });

  it("Clopper–Pearson upper bound with no events is 1 − (1 − level)^(1/n)", () => {
    expect(clopperPearsonUpper(0, 1000, 0.95)).toBeCloseTo(1 - 0.05 ** (1 / 1000), 9);
    expect(binomialUpperTail(4, 1000, clopperPearsonUpper(3, 1000, 0.95))).toBeGreaterThan(0.04);
  });

  it("chi-square survival at the textbook 5 % points", () => {
    expect(chiSquareSurvival(3.841459, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(5.991465, 2)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(0, 2)).toBe(1);
  });

  it("exact multinomial test equals the brute-force sum, and falls back to the G-test for large n", () => {
    const shares = [0.5, 0.25, 0.25];
    const counts = [2, 4, 0];
    const logPmf = (cs: number[]): number =>
      logGamma(7) + cs.reduce((s, c, i) => s - logGamma(c + 1) + (c > 0 ? c * Math.log(shares[i] ?? 0) : 0), 0);
    const target = logPmf(counts);
    let sum = 0;
    for (let a = 0; a <= 6; a++) for (let b = 0; a + b <= 6; b++) {
      const v = logPmf([a, b, 6 - a - b]);
      if (v <= target + 1e-7) sum += Math.exp(v);
    }
    const exact = sharesPValue(counts, shares);
    expect(exact.method).toBe("exact-multinomial");
    expect(exact.pValue).toBeCloseTo(sum, 10);
    const large = sharesPValue([4000, 2100, 1900], shares);
    expect(large.method).toBe("g-test");
    expect(large.pValue).toBeGreaterThan(0.001);
    expect(sharesPValue([300, 100], [0.75, 0.25]).method).toBe("exact-binomial");
  });

  it("fixed-sample size: the found n meets both error bounds", () => {
    const n = fixedSampleSize(0.5, [2 / 3, 1 / 3], 0.001, 0.001);
    expect(n).toBeDefined();
    // Normal approximation: ((z_{α/2}·σ0 + z_β·σ1)/Δ)² ≈ 380 for 1/2 against 2/3 and 1/3.
    expect(n).toBeGreaterThan(300);
    expect(n).toBeLessThan(420);
  });
});
