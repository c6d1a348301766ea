/**
 * The few distribution functions the ratio tests need, in log space where sums of thousands
 * of terms would otherwise underflow. No dependency: every function here is short enough to
 * check against a table.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
  -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
  1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; relative error below 1e-13). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = LANCZOS[0] ?? 0;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] ?? 0) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const logFactorials: number[] = [0];

/** ln n! — tabulated, because the exact tests evaluate it for every n up to the sample size. */
export function logFactorial(n: number): number {
  if (n < logFactorials.length) return logFactorials[n] ?? 0;
  if (n > 100_000) return logGamma(n + 1);
  for (let i = logFactorials.length; i <= n; i++) logFactorials.push((logFactorials[i - 1] ?? 0) + Math.log(i));
  return logFactorials[n] ?? 0;
}

/** ln P(X = k) for X ~ Binomial(n, p). */
export function logBinomialPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return -Infinity;
  if (p <= 0) return k === 0 ? 0 : -Infinity;
  if (p >= 1) return k === n ? 0 : -Infinity;
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** ln(e^a + e^b) without overflow. */
export function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const hi = Math.max(a, b);
  return hi + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** P(X ≥ k) for X ~ Binomial(n, p), summed in log space. */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  let logSum = -Infinity;
  for (let i = k; i <= n; i++) {
    const term = logBinomialPmf(i, n, p);
    logSum = logAddExp(logSum, term);
    // Past the mode the terms fall geometrically; stop once they no longer change the sum.
    if (i > n * p && term < logSum - 40) break;
  }
  return Math.min(1, Math.exp(logSum));
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialLowerTail(k: number, n: number, p: number): number {
  return k < 0 ? 0 : k >= n ? 1 : binomialUpperTail(n - k, n, 1 - p);
}

/**
 * Two-sided exact binomial test of P(success) = p: the probability, under p, of every count
 * at most as likely as the observed one (the "minimum likelihood" rule R's binom.test uses).
 * Terms are walked outward from the mode with the pmf's ratio recurrence, so the cost is
 * proportional to the spread of the distribution, not to n.
 */
export function binomialTwoSidedPValue(k: number, n: number, p: number): number {
  if (n === 0) return 1;
  if (p <= 0) return k === 0 ? 1 : 0;
  if (p >= 1) return k === n ? 1 : 0;
  const target = logBinomialPmf(k, n, p) + 1e-7;
  const mode = Math.min(n, Math.floor((n + 1) * p));
  const logMode = logBinomialPmf(mode, n, p);
  const relativeTarget = Math.exp(target - logMode);
  if (relativeTarget > 1e-250) {
    // Terms relative to the mode's, in plain arithmetic: the ratio recurrence needs no logs.
    const odds = p / (1 - p);
    let total = 1;
    let atMostAsLikely = relativeTarget >= 1 ? 1 : 0;
    const floor = relativeTarget * 1e-18;
    let t = 1;
    for (let i = mode; i < n; i++) {
      t *= ((n - i) / (i + 1)) * odds;
      if (t < floor) break;
      total += t;
      if (t <= relativeTarget) atMostAsLikely += t;
    }
    t = 1;
    for (let i = mode; i > 0; i--) {
      t *= (i / (n - i + 1)) / odds;
      if (t < floor) break;
      total += t;
      if (t <= relativeTarget) atMostAsLikely += t;
    }
    return Math.min(1, atMostAsLikely / total);
  }
  const logOdds = Math.log(p) - Math.log1p(-p);
  let total = -Infinity;
  let atMostAsLikely = -Infinity;
  const visit = (term: number): void => {
    total = logAddExp(total, term);
    if (term <= target) atMostAsLikely = logAddExp(atMostAsLikely, term);
  };
  visit(logMode);
  const floor = Math.min(target, logMode) - 50;
  let term = logMode;
  for (let i = mode; i < n; i++) {
    term += Math.log((n - i) / (i + 1)) + logOdds;
    if (term < floor) break;
    visit(term);
  }
  term = logMode;
  for (let i = mode; i > 0; i--) {
    term += Math.log(i / (n - i + 1)) - logOdds;
    if (term < floor) break;
    visit(term);
  }
  return Math.min(1, Math.exp(atMostAsLikely - total));
}

/** Inverse of the standard normal CDF (Acklam; relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const [a0, a1, a2, a3, a4, a5] = a as [number, number, number, number, number, number];
  const [b0, b1, b2, b3, b4] = b as [number, number, number, number, number];
  const [c0, c1, c2, c3, c4, c5] = c as [number, number, number, number, number, number];
  const [d0, d1, d2, d3] = d as [number, number, number, number];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c0 * q + c1) * q + c2) * q + c3) * q + c4) * q + c5) / ((((d0 * q + d1) * q + d2) * q + d3) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a0 * r + a1) * r + a2) * r + a3) * r + a4) * r + a5) * q) / (((((b0 * r + b1) * r + b2) * r + b3) * r + b4) * r + 1);
}

/**
 * Wilson score interval for a proportion. Chosen over the Wald interval because the shares
 * hagrade sees are often near 0 or 1 (one backend down) where Wald collapses to a point.
 */
export function wilsonInterval(successes: number, n: number, level: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = normalQuantile(1 - (1 - level) / 2);
  const share = successes / n;
  const z2n = (z * z) / n;
  const centre = (share + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((share * (1 - share)) / n + (z * z) / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * One-sided upper Clopper–Pearson bound on a rate after `k` events in `n` trials: the largest
 * p with P(X ≤ k | p) ≥ 1 − level. Bisection on the exact binomial tail.
 */
export function clopperPearsonUpper(k: number, n: number, level: number): number {
  if (k >= n) return 1;
  let lo = k / n;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (binomialLowerTail(k, n, mid) > 1 - level) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Regularised upper incomplete gamma Q(s, x) (series below s + 1, continued fraction above). */
export function upperGammaRegularized(s: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = s * Math.log(x) - x - logGamma(s);
  if (x < s + 1) {
    let term = 1 / s;
    let sum = term;
    for (let k = 1; k < 1000; k++) {
      term *= x / (s + k);
      sum += term;
      if (term < sum * 1e-15) break;
    }
    return Math.max(0, 1 - Math.exp(logPrefix) * sum);
  }
  const tiny = 1e-300;
  let b = x + 1 - s;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(logPrefix) * h);
}

export function chiSquareSurvival(x: number, degrees: number): number {
  return upperGammaRegularized(degrees / 2, x / 2);
}

export type PValueMethod = "exact-binomial" | "exact-multinomial" | "g-test";

/** Outcomes the exact multinomial test may enumerate before it is replaced by the G-test. */
const MAX_EXACT_MULTINOMIAL_OUTCOMES = 5_000;

/**
 * p-value of H0 "the counts come from these shares": exact binomial for two categories, the
 * exact multinomial test (sum over all outcomes at most as likely) while the number of
 * outcomes is small, else the likelihood-ratio G-test with its χ² approximation.
 */
export function sharesPValue(counts: readonly number[], shares: readonly number[]): { pValue: number; method: PValueMethod } {
  const n = counts.reduce((s, c) => s + c, 0);
  if (counts.length === 2) {
    return { pValue: binomialTwoSidedPValue(counts[0] ?? 0, n, shares[0] ?? 0), method: "exact-binomial" };
  }
  const k = counts.length;
  const outcomes = Math.exp(logFactorial(n + k - 1) - logFactorial(k - 1) - logFactorial(n));
  if (outcomes <= MAX_EXACT_MULTINOMIAL_OUTCOMES) {
    return { pValue: exactMultinomialPValue(counts, shares, n), method: "exact-multinomial" };
  }
  let g = 0;
  for (let i = 0; i < k; i++) {
    const c = counts[i] ?? 0;
    if (c > 0) g += 2 * c * Math.log(c / (n * (shares[i] ?? 0)));
  }
  return { pValue: chiSquareSurvival(g, k - 1), method: "g-test" };
}

function exactMultinomialPValue(counts: readonly number[], shares: readonly number[], n: number): number {
  const k = counts.length;
  const logShares = shares.map((s) => Math.log(s));
  const lf: number[] = [];
  for (let i = 0; i <= n; i++) lf.push(logFactorial(i));
  const term = (c: number, i: number): number => (c > 0 ? c * (logShares[i] ?? -Infinity) : 0) - (lf[c] ?? 0);
  let target = lf[n] ?? 0;
  for (let i = 0; i < k; i++) target += term(counts[i] ?? 0, i);
  target += 1e-7;
  // Terms are summed relative to the observed outcome's probability, so plain addition of
  // exponentials neither overflows nor underflows where it matters.
  let sum = 0;
  const walk = (index: number, remaining: number, partial: number): void => {
    if (index === k - 1) {
      const v = partial + term(remaining, index);
      if (v <= target) sum += Math.exp(v - target);
      return;
    }
    for (let c = 0; c <= remaining; c++) walk(index + 1, remaining - c, partial + term(c, index));
  };
  walk(0, n, lf[n] ?? 0);
  return Math.min(1, sum * Math.exp(target));
}

/**
 * The smallest sample size of a fixed-sample two-backend test with the same error bounds:
 * an acceptance interval [lo, hi] for the count of the first backend with
 * P(outside | share0) ≤ alpha and P(inside | a) ≤ beta for every alternative share a.
 * Used to show what the sequential test saves; found by bisection, then checked downward,
 * because discreteness makes feasibility only nearly monotone in n.
 */
export function fixedSampleSize(share0: number, alternativeShares: readonly number[], alpha: number, beta: number, maxN = 100_000): number | undefined {
  const feasible = (n: number): boolean => {
    const cdf = (p: number): number[] => {
      const out: number[] = [];
      let acc = -Infinity;
      for (let k = 0; k <= n; k++) {
        acc = logAddExp(acc, logBinomialPmf(k, n, p));
        out.push(Math.min(1, Math.exp(acc)));
      }
      return out;
    };
    const cdf0 = cdf(share0);
    const cdfAlt = alternativeShares.map(cdf);
    const at = (table: readonly number[], k: number): number => (k < 0 ? 0 : k >= n ? 1 : (table[k] ?? 1));
    // For each lower end, the narrowest interval [lo, hi] keeping P0(outside) ≤ alpha; hi
    // only grows with lo, so one sweep finds them all.
    let hi = 0;
    for (let lo = 0; lo <= n; lo++) {
      const lowerTail = at(cdf0, lo - 1);
      if (lowerTail > alpha) break;
      if (hi < lo) hi = lo;
      while (hi < n && lowerTail + (1 - at(cdf0, hi)) > alpha) hi++;
      if (lowerTail + (1 - at(cdf0, hi)) > alpha) continue;
      const upper = hi;
      if (cdfAlt.every((table) => at(table, upper) - at(table, lo - 1) <= beta)) return true;
    }
    return false;
  };
  let lo = 1;
  let hi = 1;
  while (!feasible(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > maxN) return undefined;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (feasible(mid)) hi = mid;
    else lo = mid;
  }
  let best = hi;
  for (let n = hi - 1; n >= Math.max(1, hi - 50); n--) if (feasible(n)) best = n;
  return best;
}
