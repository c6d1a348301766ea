/**
 * Exact-cycle detection for deterministic schedulers.
 *
 * LVS rr/wrr and Apache byrequests hand requests out in a fixed repeating order (1:1 gives
 * 1212…, Apache 3:1 gives 1121…, LVS wrr 3:1 gives 1112…, which is the same cycle read from
 * another phase; schedulers.ts steps through the real code). When one client is alone on the
 * balancer, the backends it sees repeat that cycle exactly, and one cycle's counts ARE the
 * configured ratio.
 *
 * The sequence is tested as a whole: its shortest period p is the smallest p with
 * s[i] = s[i + p] for every i (computed with the Knuth–Morris–Pratt border table, so any
 * starting phase works and each new observation costs O(1) amortised). One shifted request
 * (another client took a turn) breaks the period for good: "holds except for a few positions"
 * is never called exact, and the caller falls back to the sequential test.
 *
 * How long must the sequence be before a period is believed? Two things can fool it.
 *
 * 1. Another deterministic scheduler, with a longer cycle. LVS wrr 14:39 starts a 53-request
 *    cycle with 28 requests that alternate 1,2,1,2…: read as "period 2" after 28 requests it
 *    passes as 1:1, and it is not. Fine and Wilf's theorem says exactly how long is enough: a
 *    sequence of length ≥ p + q − gcd(p, q) with periods p and q also has period gcd(p, q).
 *    So if every scheduler under test has a cycle of at most maxPeriod = C requests, a
 *    sequence of length ≥ C + p − 1 with shortest period p cannot come from a cycle P ≠ p
 *    (P ≤ C): it would have period gcd(P, p), which divides the true cycle and makes P = p.
 *    Then one observed cycle holds the scheduler's true counts, and the verdict is exact: no
 *    wrong configuration with a cycle up to C passes, and no correct one fails. The bound is
 *    tight (there are sequences of length p + q − gcd − 1 with both periods), so no shorter
 *    rule can promise that. C defaults to 199 (DEFAULT_MAX_CYCLE): every cycle of two
 *    backends weighted up to 100 (Apache's loadfactor range; 100:99 turns in 199 requests),
 *    of three with weights up to 66, and any scheduler whose reduced weights sum to 199 or
 *    less. A scheduler with a longer cycle (IPVS weights 150:149) is not told from its short
 *    neighbours (1:1): docs/statistics.md says so.
 * 2. A random scheduler repeating a pattern by chance. For i.i.d. draws with shares π, the
 *    probability that a prefix of length L is p-periodic is exactly
 *        P_p(L) = Π_{k<p} S(r_k),   S(r) = Σ_j π_j^r,
 *    where r_k is how many of the L positions fall in residue class k mod p (the first draw of a
 *    class is free, every later one must repeat it). A claim of period p at ANY length n ≥ L
 *    implies the prefix of length L is p-periodic, so checking after every request costs
 *    nothing extra. Periods share the budget δ as δ_p = δ·6/(π²p²) (Σ_p δ_p = δ), and L_p is
 *    the smallest L with max over the plausible sources of P_p(L) ≤ δ_p. So the probability
 *    that a random scheduler at the expected shares OR at any plausible wrong shares is ever
 *    declared deterministic is at most δ (the decider uses δ = α/10 = 1e-4). With the
 *    Fine–Wilf length above it rarely binds, except for very uneven weights (100:1).
 *
 * Other clients' requests disturb a cycle; such a sequence is p-periodic only if every block
 * of p requests holds the same disturbance at the same offset, and it must hold for
 * max(3p, C + p − 1) requests: K = 3 full repetitions at least, on top of the lengths above.
 *
 * The required length of period p is therefore max(3p, C + p − 1, L_p): 200 requests for 1:1
 * (p = 2) and 202 for 3:1 (p = 4) with C = 199.
 */

import { plausibleAlternatives, type Alternative } from "./alternatives.js";
import { cycleLength, normalise, toWeightTable, type WeightTable, type Weights } from "./weights.js";

/** The share of α (and of β) that exact-cycle claims may use; the sequential test gets the rest. */
export const DEFAULT_CYCLE_DELTA = 1e-4;

/**
 * The longest scheduler cycle told apart exactly (C in the module comment): two backends with
 * weights up to 100 turn in at most 199 requests.
 */
export const DEFAULT_MAX_CYCLE = 199;

export interface CycleBoundOptions {
  /** Probability budget for believing a cycle a random scheduler made by chance. */
  delta: number;
  /** Shares of the random sources the bound must hold for (each with ≥ 2 positive shares). */
  sources: readonly (readonly number[])[];
  /** Cycle length of the expected deterministic scheduler (3:1 → 4), if known; at most maxPeriod. */
  expectedPeriod?: number;
  /** Lengths beyond this are never needed (the sample budget); reported as Infinity. */
  maxLength?: number;
  /** Longer periods are never believed, and every cycle up to this length is told apart (default 199). */
  maxPeriod?: number;
}

/** Full repetitions of a cycle required before it is believed, whatever the chance bound says. */
export const MIN_REPETITIONS = 3;

/** The minimum sequence length at which a period p is believed (see the module comment). */
export class CycleBound {
  private readonly logDelta: number;
  private readonly logSources: number[][];
  private readonly required: Float64Array;
  private readonly maxLength: number;
  readonly maxPeriod: number;

  constructor(private readonly options: CycleBoundOptions) {
    if (!(options.delta > 0 && options.delta < 1)) throw new RangeError(`delta must be in (0, 1), got ${options.delta}`);
    this.logDelta = Math.log(options.delta);
    this.logSources = options.sources
      .filter((shares) => shares.filter((s) => s > 0).length >= 2)
      .map((shares) => normalise(shares).filter((s) => s > 0).map((s) => Math.log(s)));
    if (this.logSources.length === 0) throw new RangeError("CycleBound needs a source with at least two positive shares");
    this.maxLength = options.maxLength ?? 1_000_000;
    this.maxPeriod = Math.max(1, Math.floor(options.maxPeriod ?? DEFAULT_MAX_CYCLE));
    // 0 = not computed yet (every real requirement is at least 3).
    this.required = new Float64Array(this.maxPeriod + 1);
  }

  /** ln δ_p, the share of the budget period p may use. */
  logBudget(period: number): number {
    return this.logDelta + Math.log(6 / (Math.PI * Math.PI * period * period));
  }

  /** ln of max over sources of P_p(L): the chance a random source shows period p for L draws. */
  logChance(period: number, length: number): number {
    const q = Math.floor(length / period);
    const m = length - q * period;
    let worst = -Infinity;
    for (const logShares of this.logSources) {
      const v = (period - m) * logPowerSum(logShares, q) + m * logPowerSum(logShares, q + 1);
      if (v > worst) worst = v;
    }
    return worst;
  }

  /** Smallest length at which period p is believed; Infinity if beyond `maxLength`. */
  requiredLength(period: number): number {
    if (period > this.maxPeriod || period < 1) return Infinity;
    const cached = this.required[period] ?? 0;
    if (cached !== 0) return cached;
    const budget = this.logBudget(period);
    // Fine–Wilf: a prefix of length ≥ P + p − 1 of a cycle of length P cannot show a period p
    // that P does not divide, so no scheduler cycle up to maxPeriod is mistaken for another
    // (see the module comment).
    const longest = Math.max(this.maxPeriod, this.options.expectedPeriod ?? 0);
    const lower = Math.max(MIN_REPETITIONS * period, longest + period - 1);
    const ok = (length: number): boolean => this.logChance(period, length) <= budget;
    let result: number;
    if (lower > this.maxLength) {
      result = Infinity;
    } else if (ok(lower)) {
      result = lower;
    } else {
      // P_p(L) only falls as L grows (each step raises one r_k, and S(r+1) ≤ S(r)): bisect.
      let bad = lower;
      let good = lower + period;
      while (!ok(good)) {
        bad = good;
        good = bad * 2;
        if (bad > this.maxLength) break;
      }
      if (bad > this.maxLength) {
        result = Infinity;
      } else {
        while (good - bad > 1) {
          const mid = Math.floor((bad + good) / 2);
          if (ok(mid)) good = mid;
          else bad = mid;
        }
        result = good > this.maxLength ? Infinity : good;
      }
    }
    this.required[period] = result;
    return result;
  }
}

/** ln Σ_j π_j^r given ln π_j. */
function logPowerSum(logShares: readonly number[], r: number): number {
  let hi = -Infinity;
  for (const l of logShares) if (l * r > hi) hi = l * r;
  let sum = 0;
  for (const l of logShares) sum += Math.exp(l * r - hi);
  return hi + Math.log(sum);
}

/**
 * The shortest period of a growing sequence of labels, updated in O(1) amortised per label
 * (the KMP border of the whole prefix: period = length − border).
 */
export class PeriodTracker {
  private codes = new Int32Array(64);
  private borders = new Int32Array(64);
  private size = 0;
  private readonly codeOf = new Map<string, number>();
  private readonly labelOf: string[] = [];

  constructor(labels: readonly string[] = []) {
    for (const label of labels) {
      if (this.codeOf.has(label)) continue;
      this.codeOf.set(label, this.labelOf.length);
      this.labelOf.push(label);
    }
  }

  /** The code of a label, numbering it if new. */
  codeFor(label: string): number {
    let code = this.codeOf.get(label);
    if (code === undefined) {
      code = this.labelOf.length;
      this.codeOf.set(label, code);
      this.labelOf.push(label);
    }
    return code;
  }

  push(label: string): void {
    this.pushCode(this.codeFor(label));
  }

  /**
   * Feed a label already turned into a small integer. Mixing with push(label) needs the same
   * numbering: `labels` given to the constructor take codes 0, 1, … in order.
   */
  pushCode(code: number): void {
    const n = this.size;
    if (n === this.codes.length) {
      const codes = new Int32Array(n * 2);
      codes.set(this.codes);
      this.codes = codes;
      const borders = new Int32Array(n * 2);
      borders.set(this.borders);
      this.borders = borders;
    }
    const codes = this.codes;
    const borders = this.borders;
    codes[n] = code;
    this.size = n + 1;
    if (n === 0) {
      borders[0] = 0;
      return;
    }
    let k = borders[n - 1] ?? 0;
    while (k > 0 && codes[k] !== code) k = borders[k - 1] ?? 0;
    if (codes[k] === code) k++;
    borders[n] = k;
  }

  get length(): number {
    return this.size;
  }

  /** Shortest p with s[i] = s[i + p] for all i; equals the length when nothing repeats. */
  get period(): number {
    const n = this.size;
    return n === 0 ? 0 : n - (this.borders[n - 1] ?? 0);
  }

  /** The first `period` labels: one cycle, in the phase the sequence started in. */
  cycle(): string[] {
    return Array.from(this.codes.subarray(0, this.period), (c) => this.labelOf[c] ?? "");
  }
}

export interface ExactCycle {
  found: true;
  n: number;
  period: number;
  /** One cycle as observed from the first request. */
  cycle: string[];
  /** Per expected label, within one cycle. */
  counts: Record<string, number>;
  /** Errors and unknown pages within one cycle (each a label of its own). */
  otherCounts: Record<string, number>;
  /** One cycle's counts are proportional to the expected weights and it holds no other label. */
  proportional: boolean;
  /** n / period, rounded down to whole cycles. */
  repetitions: number;
  requiredLength: number;
  /** Upper bound on the chance that a random scheduler showed this period this long. */
  chanceBound: number;
}

export interface NoExactCycle {
  found: false;
  n: number;
  /**
   * no-repeat: the shortest period is longer than any plausible scheduler cycle (maxPeriod) or
   * does not fit three times (nothing repeats, or a shifted request broke the cycle);
   * too-short: a plausible period repeats, but not yet long enough to be believed.
   */
  reason: "no-repeat" | "too-short";
  shortestPeriod: number;
  requiredLength?: number;
}

export type CycleResult = ExactCycle | NoExactCycle;

/** Whether `period` at the tracker's current length is believed, and what it shows. */
export function describeCycle(tracker: PeriodTracker, table: WeightTable, bound: CycleBound): CycleResult {
  const n = tracker.length;
  const period = tracker.period;
  if (n === 0 || period > bound.maxPeriod || MIN_REPETITIONS * period > n) return { found: false, n, reason: "no-repeat", shortestPeriod: period };
  const requiredLength = bound.requiredLength(period);
  if (n < requiredLength) return { found: false, n, reason: "too-short", shortestPeriod: period, requiredLength };
  const cycle = tracker.cycle();
  const counts: Record<string, number> = {};
  for (const label of table.labels) counts[label] = 0;
  const otherCounts: Record<string, number> = {};
  for (const label of cycle) {
    if (label in counts) counts[label] = (counts[label] ?? 0) + 1;
    else otherCounts[label] = (otherCounts[label] ?? 0) + 1;
  }
  const perCycle = table.labels.map((label) => counts[label] ?? 0);
  const proportional = Object.keys(otherCounts).length === 0 && isProportional(perCycle, table.weights);
  return {
    found: true,
    n,
    period,
    cycle,
    counts,
    otherCounts,
    proportional,
    repetitions: Math.floor(n / period),
    requiredLength,
    chanceBound: Math.exp(bound.logChance(period, requiredLength)),
  };
}

/** Counts proportional to weights: c_i · w_j = c_j · w_i for all pairs. */
export function isProportional(counts: readonly number[], weights: readonly number[]): boolean {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return false;
  const shares = normalise(weights);
  return counts.every((c, i) => Math.abs(c / total - (shares[i] ?? 0)) < 1e-9);
}

/**
 * The bound for a lab: the random sources it must hold for are the expected shares and every
 * plausible wrong configuration in which at least two backends answer (a single-backend
 * source is deterministic anyway: its period 1 with the wrong ratio is the right verdict).
 * Cycles up to max(maxCycle, the expected cycle, the alternatives' cycles) are told apart.
 */
export function cycleBoundFor(table: WeightTable, alternatives: readonly Alternative[], delta = DEFAULT_CYCLE_DELTA, maxLength?: number, maxCycle = DEFAULT_MAX_CYCLE): CycleBound {
  const expectedPeriod = cycleLength(table.weights);
  let maxPeriod = Math.max(maxCycle, expectedPeriod ?? 0);
  for (const alt of alternatives) maxPeriod = Math.max(maxPeriod, cycleLength(alt.weights) ?? 0);
  return new CycleBound({
    delta,
    sources: [table.shares, ...alternatives.map((alt) => alt.shares)],
    maxPeriod,
    ...(expectedPeriod !== undefined ? { expectedPeriod } : {}),
    ...(maxLength !== undefined ? { maxLength } : {}),
  });
}

export interface FindCycleOptions {
  /** Chance budget for believing a random scheduler's accidental repetition (default 1e-4). */
  delta?: number;
  /** Every scheduler cycle up to this length is told apart (default 199). */
  maxCycle?: number;
  /** Wrong configurations the bound must also hold for (default: the plausible ones). */
  alternatives?: readonly Alternative[];
}

/**
 * The shortest period the WHOLE sequence repeats with (any phase), believed only when the
 * sequence is at least as long as the bound requires. Labels outside `expectedWeights`
 * (errors, unknown pages) are labels of their own: a cycle holding them is not proportional.
 */
export function findExactCycle(sequence: readonly string[], expectedWeights: Weights, options: FindCycleOptions = {}): CycleResult {
  const table = toWeightTable(expectedWeights);
  const alternatives = options.alternatives ?? plausibleAlternatives(table);
  const bound = cycleBoundFor(table, alternatives, options.delta ?? DEFAULT_CYCLE_DELTA, undefined, options.maxCycle ?? DEFAULT_MAX_CYCLE);
  const tracker = new PeriodTracker();
  for (const label of sequence) tracker.push(label);
  return describeCycle(tracker, table, bound);
}
