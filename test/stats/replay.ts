/**
 * Replaying the ratio decider on every phase of every deterministic scheduler cycle, fast.
 *
 * A lone client on IPVS rr/wrr or Apache byrequests sees one cycle of backends over and over,
 * from whatever phase the scheduler was in. The decider's verdict on such a sequence depends
 * on two things only:
 * - the shortest period p(n) of each prefix (the exact-cycle rule fires at the first n with
 *   p(n) ≤ maxPeriod, n ≥ 3·p(n) and n ≥ requiredLength(p(n)), and judges the counts of the
 *   first p(n) answers; tracking stops once p(n) > maxPeriod);
 * - the sequential test, whose "fail" counts at once and whose "pass" waits until tracking has
 *   stopped (decide.ts).
 * Running createRatioDecider on ~3 million (cycle, phase) sequences of up to 400 answers, for
 * five expected ratios, would take minutes. Instead the replay computes p(n) for every phase
 * of a cycle at once (below: for each shift p, the distance from each phase to the first
 * position where the cycle differs from itself shifted by p; p(n) is the smallest p whose
 * p-periodic run from the phase is at least n long), applies the decider's own numbers
 * (decisionPlan: maxPeriod, requiredLength, the expected weights; isProportional) to find
 * where the exact rule fires and what it says, and then runs the real createRatioDecider on
 * exactly the sequences whose outcome could be "pass": those where the exact rule would pass,
 * or where tracking stops within the budget so that the sequential test may pass. Every other
 * sequence can only end as "fail" (exact or sequential, whichever comes first) or
 * "inconclusive": no pass is possible, whatever the sequential test does. The test file checks
 * this replay against the real decider on a sample of sequences.
 */

import {
  decisionPlan,
  createRatioDecider,
  isProportional,
  MIN_REPETITIONS,
  type DecisionPlan,
  type RatioOptions,
  type RatioVerdict,
  type SchedulerCycles as Domain,
  type SchedulerWord as Word,
  type Weights,
} from "../../src/stats/index.js";

export { schedulerCycles as domainWords } from "../../src/stats/index.js";
export type { SchedulerCycles as Domain, SchedulerWord as Word } from "../../src/stats/index.js";

/** What the replay found for one (cycle, phase) sequence under one expected ratio. */
export type ReplayClass =
  /** The exact rule fails it at `n` (the sequential test may fail it earlier): fail. */
  | "exact-fail"
  /** Neither rule can pass it within the budget: fail by the sequential test, or inconclusive. */
  | "no-pass"
  /** Could pass: the real decider was run, `verdict` is its answer. */
  | "decider";

export interface ExpectedRun {
  name: string;
  expected: Weights;
  plan: DecisionPlan;
  options: RatioOptions;
  /** The expected weights in label index order. */
  shares: number[];
  /** max(3p, requiredLength(p)) per period p (Infinity past the budget). */
  need: Float64Array;
  /**
   * The first n at which anything but a sequential "fail" can happen: the exact rule's
   * smallest requirement, or the n at which tracking may stop (maxPeriod + 1). Before it,
   * the replay need not know p(n).
   */
  start: number;
}

export interface ReplayTally {
  name: string;
  states: number;
  /** Sequences whose cycle has the expected shares. */
  correct: number;
  correctPassed: number;
  /** n of the correct sequences' passes. */
  correctMinN: number;
  correctMaxN: number;
  exactFail: number;
  noPass: number;
  /** Sequences run through createRatioDecider. */
  deciderRuns: number;
  falsePasses: { word: Word; phase: number; verdict: RatioVerdict }[];
  falseFails: { word: Word; phase: number; verdict: RatioVerdict | undefined; why: string }[];
}

export function expectedRun(name: string, weights: readonly number[], options: RatioOptions): ExpectedRun {
  const expected: Weights = Object.fromEntries(weights.map((w, i) => [String(i + 1), w]));
  const plan = decisionPlan(expected, options);
  const need = requirements(plan);
  let start = (plan.bound?.maxPeriod ?? 0) + 1;
  for (let p = 1; p < need.length; p++) start = Math.min(start, need[p] ?? Infinity);
  return { name, expected, plan, options, shares: [...weights], need, start };
}

/** Scratch buffers reused across words (the longest period decides their size). */
class Buffers {
  dist = new Int32Array(0);
  next = new Int32Array(0);
  tripled = new Uint8Array(0);
  ensure(period: number): void {
    if (this.dist.length < period * period) this.dist = new Int32Array(period * period);
    if (this.next.length < 2 * period + 1) this.next = new Int32Array(2 * period + 1);
    if (this.tripled.length < 3 * period) this.tripled = new Uint8Array(3 * period);
  }
}

/**
 * dist[p·P + φ] for 1 ≤ p < P: how many positions from φ on the cycle agrees with itself
 * shifted by p (the first i ≥ 0 with c[φ+i] ≠ c[φ+i+p], indices mod P). The prefix of length n
 * from phase φ has period p exactly when n ≤ dist + p.
 */
function shiftDistances(cycle: Uint8Array, buffers: Buffers, fromShift = 1): Int32Array {
  const period = cycle.length;
  buffers.ensure(period);
  const { dist, next, tripled } = buffers;
  for (let i = 0; i < 3 * period; i++) tripled[i] = cycle[i % period] ?? 0;
  for (let p = Math.max(1, fromShift); p < period; p++) {
    // A primitive cycle differs from every shift within one turn, so the sweep over two turns
    // always meets a mismatch before running off its end.
    let run = 0;
    for (let t = 2 * period - 1; t >= 0; t--) {
      run = tripled[t] !== tripled[t + p] ? 0 : run + 1;
      next[t] = run;
    }
    dist.set(next.subarray(0, period), p * period);
  }
  return dist;
}

/** The shortest period of every prefix of a sequence, straight from the definition (tests). */
export function prefixPeriods(sequence: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let n = 1; n <= sequence.length; n++) {
    let p = 1;
    for (; p < n; p++) {
      let ok = true;
      for (let i = 0; i + p < n; i++) {
        if (sequence[i] !== sequence[i + p]) {
          ok = false;
          break;
        }
      }
      if (ok) break;
    }
    out.push(p);
  }
  return out;
}

/** p(n) for every n ≤ length from one phase, by the replay's method (tests compare it with prefixPeriods). */
export function replayPeriods(cycle: Uint8Array, phase: number, length: number): number[] {
  const buffers = new Buffers();
  const period = cycle.length;
  const dist = period > 1 ? shiftDistances(cycle, buffers) : new Int32Array(0);
  const out: number[] = [];
  for (let n = 1; n <= length; n++) {
    let p = 1;
    for (; p < period; p++) if ((dist[p * period + phase] ?? 0) + p >= n) break;
    out.push(p);
  }
  return out;
}

export interface Decided {
  /** Where the exact rule fires within the budget, if it does. */
  exactN?: number;
  exactPeriod?: number;
  exactPass?: boolean;
  /** Where tracking stops within the budget (a pass of the sequential test may then count). */
  trackingStops?: number;
}

/**
 * The shortest periods of the prefixes from one phase, as steps: p(n) = period[j] for
 * from[j] ≤ n ≤ to[j] (the last step, the cycle's own period, never ends).
 */
class Staircase {
  period = new Int32Array(256);
  from = new Int32Array(256);
  to = new Float64Array(256);
  size = 0;

  /**
   * Steps for n ≥ start only. A primitive cycle differs from its shift by p < P somewhere in
   * every P consecutive positions, so the p-periodic run from a phase is at most P − 1 + p
   * long: shifts p ≤ start − P cannot reach `start` and are skipped (firstShift).
   */
  fill(cycle: Uint8Array, phase: number, dist: Int32Array, start = 1): void {
    const length = cycle.length;
    let covered = start - 1;
    this.size = 0;
    for (let p = Math.min(firstShift(length, start), length); p <= length; p++) {
      const reach = p === length ? Infinity : (dist[p * length + phase] ?? 0) + p;
      if (reach <= covered) continue;
      if (this.size === this.period.length) this.grow();
      this.period[this.size] = p;
      this.from[this.size] = covered + 1;
      this.to[this.size] = reach;
      this.size++;
      covered = reach;
    }
  }

  private grow(): void {
    const size = this.period.length * 2;
    const period = new Int32Array(size);
    period.set(this.period);
    this.period = period;
    const from = new Int32Array(size);
    from.set(this.from);
    this.from = from;
    const to = new Float64Array(size);
    to.set(this.to);
    this.to = to;
  }
}

function firstShift(period: number, start: number): number {
  return Math.max(1, start - period + 1);
}

/** max(3p, requiredLength(p)) for every p ≤ maxPeriod, from the plan's bound. */
function requirements(plan: DecisionPlan): Float64Array {
  const bound = plan.bound;
  const out = new Float64Array((bound?.maxPeriod ?? 0) + 1);
  for (let p = 1; p < out.length; p++) out[p] = Math.max(MIN_REPETITIONS * p, bound?.requiredLength(p) ?? Infinity);
  return out;
}

/**
 * Where the exact rule fires on the sequence from `phase`, and where tracking stops, using the
 * plan's bound; nothing beyond the budget.
 */
function exactRule(cycle: Uint8Array, phase: number, steps: Staircase, run: ExpectedRun): Decided {
  const bound = run.plan.bound;
  const budget = run.plan.maxSamples;
  if (!bound) return { trackingStops: 1 };
  for (let j = 0; j < steps.size; j++) {
    const p = steps.period[j] ?? 0;
    const from = steps.from[j] ?? 0;
    if (from > budget) return {};
    if (p > bound.maxPeriod) return { trackingStops: from };
    const at = Math.max(from, run.need[p] ?? Infinity);
    if (at <= (steps.to[j] ?? 0) && at <= budget) {
      const cycleCounts = new Array<number>(run.shares.length).fill(0);
      for (let i = 0; i < p; i++) {
        const c = cycle[(phase + i) % cycle.length] ?? 0;
        cycleCounts[c] = (cycleCounts[c] ?? 0) + 1;
      }
      return { exactN: at, exactPeriod: p, exactPass: isProportional(cycleCounts, run.shares) };
    }
  }
  return {};
}

/** The real decider on the sequence from `phase`, to its verdict. */
export function runDecider(cycle: Uint8Array, phase: number, run: ExpectedRun): RatioVerdict {
  const decider = createRatioDecider(run.expected, run.options);
  const period = cycle.length;
  let i = phase;
  for (;;) {
    const step = decider.pushIndex(cycle[i] ?? 0);
    if (step.state === "decided") return step.verdict;
    i = i + 1 === period ? 0 : i + 1;
  }
}

export function emptyTally(name: string): ReplayTally {
  return { name, states: 0, correct: 0, correctPassed: 0, correctMinN: Infinity, correctMaxN: 0, exactFail: 0, noPass: 0, deciderRuns: 0, falsePasses: [], falseFails: [] };
}

/** Classifies one phase of one word under one expected ratio (the replay's result, before any decider run). */
function classifySteps(word: Word, phase: number, steps: Staircase, run: ExpectedRun): { cls: ReplayClass; decided: Decided } {
  const decided = exactRule(word.cycle, phase, steps, run);
  const couldPass = decided.trackingStops !== undefined || decided.exactPass === true;
  if (couldPass) return { cls: "decider", decided };
  return { cls: decided.exactN !== undefined ? "exact-fail" : "no-pass", decided };
}

/** The replay's classification of one (cycle, phase) sequence (tests compare it with the decider). */
export function classify(word: Word, phase: number, run: ExpectedRun): { cls: ReplayClass; decided: Decided } {
  const buffers = new Buffers();
  const dist = word.cycle.length > 1 ? shiftDistances(word.cycle, buffers) : buffers.dist;
  const steps = new Staircase();
  steps.fill(word.cycle, phase, dist, run.start);
  return classifySteps(word, phase, steps, run);
}

/** Replays every phase of every word under each expected ratio into the tallies. */
export async function replayDomain(domain: Domain, runs: readonly ExpectedRun[], tallies: ReplayTally[]): Promise<void> {
  const buffers = new Buffers();
  const steps = new Staircase();
  let start = Infinity;
  for (const run of runs) start = Math.min(start, run.start);
  let since = performance.now();
  for (const word of domain.words) {
    if (performance.now() - since > 200) {
      // Let the test worker answer its runner: a long synchronous loop starves its RPC.
      await new Promise((resolve) => setImmediate(resolve));
      since = performance.now();
    }
    const period = word.cycle.length;
    const dist = period > 1 ? shiftDistances(word.cycle, buffers, firstShift(period, start)) : buffers.dist;
    const correct = runs.map((run) => isProportional(word.counts, run.shares));
    for (let phase = 0; phase < period; phase++) {
      steps.fill(word.cycle, phase, dist, start);
      for (let r = 0; r < runs.length; r++) {
        const run = runs[r];
        const tally = tallies[r];
        if (!run || !tally) continue;
        const isCorrect = correct[r] === true;
        tally.states++;
        if (isCorrect) tally.correct++;
        const { cls } = classifySteps(word, phase, steps, run);
        if (cls === "exact-fail") {
          tally.exactFail++;
          if (isCorrect) tally.falseFails.push({ word, phase, verdict: undefined, why: "the exact rule fails a cycle with the expected shares" });
          continue;
        }
        if (cls === "no-pass") {
          tally.noPass++;
          if (isCorrect) tally.falseFails.push({ word, phase, verdict: undefined, why: "no pass within the budget" });
          continue;
        }
        tally.deciderRuns++;
        const verdict = runDecider(word.cycle, phase, run);
        if (isCorrect) {
          if (verdict.outcome === "pass") {
            tally.correctPassed++;
            tally.correctMinN = Math.min(tally.correctMinN, verdict.n);
            tally.correctMaxN = Math.max(tally.correctMaxN, verdict.n);
          } else {
            tally.falseFails.push({ word, phase, verdict, why: `the decider says ${verdict.outcome}` });
          }
        } else if (verdict.outcome === "pass") {
          tally.falsePasses.push({ word, phase, verdict });
        }
      }
    }
  }
}
