/**
 * decideRatio: does the balancer distribute in the expected ratio?
 *
 * Two procedures watch the same requests, and the first to decide wins:
 * 1. Exact cycle (cycle.ts). A deterministic scheduler seen by a lone client repeats one cycle;
 *    once the whole sequence has repeated its shortest period p for max(3p, C + p − 1, L_p)
 *    requests, no scheduler with another cycle of at most C = maxCycle requests (Fine–Wilf)
 *    and no random scheduler (chance ≤ δ) shows it: one cycle's counts are the ratio, pass if
 *    they are proportional to the expected weights, fail otherwise.
 * 2. Sequential probability ratio test (sprt.ts) against the plausible wrong configurations,
 *    for everything else: random schedulers, other clients' traffic interleaved, concurrency.
 *    Its "fail" counts at once. Its "pass" waits while the answers still repeat a period of
 *    at most C: such a sequence may be a deterministic scheduler whose ratio lies between the
 *    expected one and its nearest alternatives (8:3 for 3:1), which the sequential test would
 *    pass every time and the cycle rule decides exactly a few requests later. A random
 *    scheduler stops repeating any period ≤ C after about C requests, so the wait costs
 *    nothing beyond that.
 * Error budget: δ = cycleShare·min(α, β) goes to the cycle claims (default 0.1), the SPRT gets
 * sprtShare·α and sprtShare·β (default 0.5). A correct lab fails only if one procedure errs, so
 * P(fail | correct) ≤ δ + sprtShare·α ≤ 0.6α, and likewise for β. Why leave 40 % unspent:
 * when the LLR moves in small steps (3:1 against 4:1) Ville's bound is almost attained, and a
 * test that spends all of α errs at a rate a simulation can never show to be below α. With
 * half of it, the measured rates sit visibly under 0.001 (docs/statistics.md), for about 8 %
 * more requests in the random regime; deterministic schedulers are decided by cycle anyway.
 *
 * Errors and unknown pages never enter the ratio; they are counted and reported. When they
 * exceed otherAllowance + maxOtherShare·n the verdict is inconclusive: a flaky backend's
 * answers would bias the shares, and a VIP that only fails has no ratio to judge.
 */

import type { Text } from "../model/index.js";
import { alternativesFrom, klDivergence, plausibleAlternatives, type Alternative, type AlternativeKind } from "./alternatives.js";
import { cycleBoundFor, DEFAULT_MAX_CYCLE, describeCycle, MIN_REPETITIONS, PeriodTracker, type CycleBound, type ExactCycle } from "./cycle.js";
import type { PValueMethod } from "./distributions.js";
import {
  alternativeText,
  explainCycle,
  explainCycleUnresolved,
  explainMaxSamples,
  explainSprtFail,
  explainSprtPass,
  explainTooManyErrors,
  type ExplainFacts,
  type Indifference,
} from "./explain.js";
import { DEFAULT_ALPHA, DEFAULT_BETA, shareEvidence, Sprt, type SprtAlternativeStatus, type SprtBoundaries } from "./sprt.js";
import { normalise, observedRatioText, sameShares, toWeightTable, weightsText, type Weights, type WeightTable } from "./weights.js";

export interface RatioOptions {
  /** Bound on P(fail | correct lab); default 0.001. */
  alpha?: number;
  /** Bound on P(pass | lab at a plausible wrong configuration); default 0.001. */
  beta?: number;
  /** Requests after which an undecided test is inconclusive; default 2000. */
  maxSamples?: number;
  /** Wrong configurations to test against; default: plausibleAlternatives(expected). */
  alternatives?: readonly Weights[];
  /** Decide deterministic cycles exactly (default true). */
  exactCycle?: boolean;
  /** Every deterministic scheduler with a cycle of at most this many requests is told apart exactly (default 199). */
  maxCycle?: number;
  /** Share of α and β spent on exact-cycle claims; default 0.1. */
  cycleShare?: number;
  /** Share of α and β given to the sequential test; default 0.5 (cycleShare + sprtShare ≤ 1). */
  sprtShare?: number;
  /** Largest tolerated share of errors and unknown pages; default 0.1. */
  maxOtherShare?: number;
  /** Errors and unknown pages tolerated on top of maxOtherShare·n (so an early burst does not stop the test); default 5. */
  otherAllowance?: number;
  /** Confidence level of the per-share Wilson intervals; default 0.95. */
  ciLevel?: number;
}

export const DEFAULT_MAX_SAMPLES = 2000;

export type RatioMethod = "exact-cycle" | "sprt";
export type RatioOutcome = "pass" | "fail" | "inconclusive";
export type RatioReason =
  | "cycle-matches"
  | "cycle-differs"
  | "alternatives-rejected"
  | "alternative-accepted"
  | "max-samples"
  /** finish() was called before a decision (the probe loop hit its deadline). */
  | "stopped"
  | "too-many-errors";

export interface RatioCycleEvidence {
  period: number;
  cycle: string[];
  /** Per expected backend, within one cycle. */
  counts: Record<string, number>;
  otherCounts: Record<string, number>;
  repetitions: number;
  requiredLength: number;
  proportional: boolean;
  /** Bound on the chance a random scheduler repeats this period for requiredLength requests. */
  chanceBound: number;
}

/** Plain JSON: saved as check evidence and re-rendered by every reporter. */
export interface RatioVerdict {
  method: RatioMethod;
  outcome: RatioOutcome;
  reason: RatioReason;
  /** Requests used, errors included. */
  n: number;
  /** Requests answered by an expected backend. */
  nValid: number;
  nOther: number;
  counts: Record<string, number>;
  /** Errors and unknown pages, by label. */
  otherCounts: Record<string, number>;
  observedShares: Record<string, number>;
  expectedShares: Record<string, number>;
  expectedRatio: string;
  observedRatio: string;
  cycle?: RatioCycleEvidence;
  /** The wrong configuration that decided: accepted on fail, rejected last on pass. */
  alternative?: { name: string; kind: AlternativeKind; shares: Record<string, number> };
  alternatives?: SprtAlternativeStatus[];
  /** ln L(expected)/L(alternative) per alternative name; null when excluded by an impossible answer. */
  llr?: Record<string, number | null>;
  boundaries?: SprtBoundaries;
  alpha: number;
  beta: number;
  ci: { level: number; method: "wilson"; shares: Record<string, [number, number]> };
  pValue?: number;
  pValueMethod?: PValueMethod;
  maxSamples: number;
  /** Deterministic cycles up to this length are told apart exactly; 0 when exact cycles are off. */
  maxCycle: number;
  /** On max-samples: about how many requests decide 95 % of correct labs (a sampling.maxRequests to try). */
  suggestedSamples?: number;
  explanation: Text;
}

/** What was decided, without the evidence: enough for simulations that count outcomes. */
export interface RatioDecision {
  method: RatioMethod;
  outcome: RatioOutcome;
  reason: RatioReason;
  /** Requests used, errors included. */
  n: number;
}

interface DecidedStep {
  state: "decided";
  decision: RatioDecision;
  /** Built on first use, then the same object. */
  readonly verdict: RatioVerdict;
}

export type DeciderStep = { state: "continue" } | DecidedStep;

export interface RatioDecider {
  /** Feed the label of one answer (the backend, or an error/unknown label). */
  push(label: string): DeciderStep;
  /**
   * Feed one answer of the expected backend with this index in the expected weights' key
   * order: the same as push(label), without the label lookup (simulations).
   */
  pushIndex(index: number): DeciderStep;
  /** The expected backends' labels, in index order. */
  readonly labels: readonly string[];
  /** The verdict now: the decision if there is one, else inconclusive (the probe loop stopped early). */
  finish(): RatioVerdict;
  readonly n: number;
  readonly maxSamples: number;
  readonly verdict: RatioVerdict | undefined;
  readonly decision: RatioDecision | undefined;
}

interface Settings {
  alpha: number;
  beta: number;
  maxSamples: number;
  exactCycle: boolean;
  maxCycle: number;
  maxOtherShare: number;
  otherAllowance: number;
  ciLevel: number;
}

function checkProbability(name: string, value: number, open = true): number {
  if (!(Number.isFinite(value) && value > 0 && (open ? value < 1 : value <= 1))) {
    throw new RangeError(`${name} must be in (0, 1), got ${value}`);
  }
  return value;
}

const CONTINUE: DeciderStep = Object.freeze({ state: "continue" });

interface Plan {
  table: WeightTable;
  alternatives: Alternative[];
  bound: CycleBound | undefined;
  index: Map<string, number>;
}

const planCache = new Map<string, Plan>();

/**
 * Alternatives and cycle bounds depend only on the expected weights and the options; they are
 * memoised because simulations (and a grader run over a class) build many deciders per lab.
 * The key is the weights' content, never the object: a caller may reuse and change it.
 */
function planFor(expected: Weights, options: RatioOptions, settings: Settings, cycleShare: number): Plan {
  const alternativesKey = options.alternatives ? JSON.stringify(options.alternatives) : "";
  const key = `${JSON.stringify(Object.entries(expected))}|${settings.alpha}|${settings.beta}|${cycleShare}|${settings.maxSamples}|${settings.maxCycle}|${alternativesKey}`;
  const cached = planCache.get(key);
  if (cached) return cached;
  const table = toWeightTable(expected);
  const alternatives = options.alternatives ? alternativesFrom(table, options.alternatives) : plausibleAlternatives(table);
  // No length cap from the budget: a verdict left inconclusive says how many answers would do.
  const bound = cycleShare > 0 ? cycleBoundFor(table, alternatives, cycleShare * Math.min(settings.alpha, settings.beta), undefined, settings.maxCycle) : undefined;
  const plan = { table, alternatives, bound, index: new Map(table.labels.map((label, i) => [label, i])) };
  if (planCache.size >= 256) planCache.clear();
  planCache.set(key, plan);
  return plan;
}

/**
 * What a decider for these weights and options works with: the alternatives, the cycle bound
 * (undefined with exactCycle: false) and the error budget each procedure gets. Exported for
 * replays that must apply the very same numbers (test/stats/replay.ts).
 */
export interface DecisionPlan {
  table: WeightTable;
  alternatives: readonly Alternative[];
  bound: CycleBound | undefined;
  maxSamples: number;
  /** α and β of the sequential test (sprtShare of the verdict's). */
  sprtAlpha: number;
  sprtBeta: number;
}

function settingsOf(options: RatioOptions): { settings: Settings; cycleShare: number; sprtShare: number } {
  const settings: Settings = {
    alpha: checkProbability("alpha", options.alpha ?? DEFAULT_ALPHA),
    beta: checkProbability("beta", options.beta ?? DEFAULT_BETA),
    maxSamples: Math.max(1, Math.floor(options.maxSamples ?? DEFAULT_MAX_SAMPLES)),
    exactCycle: options.exactCycle ?? true,
    maxCycle: Math.max(1, Math.floor(options.maxCycle ?? DEFAULT_MAX_CYCLE)),
    maxOtherShare: checkProbability("maxOtherShare", options.maxOtherShare ?? 0.1, false),
    otherAllowance: Math.max(0, options.otherAllowance ?? 5),
    ciLevel: checkProbability("ciLevel", options.ciLevel ?? 0.95),
  };
  const cycleShare = settings.exactCycle ? checkProbability("cycleShare", options.cycleShare ?? 0.1) : 0;
  const sprtShare = checkProbability("sprtShare", options.sprtShare ?? 0.5, false);
  if (cycleShare + sprtShare > 1) throw new RangeError(`cycleShare + sprtShare must be at most 1, got ${cycleShare} + ${sprtShare}`);
  return { settings, cycleShare, sprtShare };
}

export function decisionPlan(expected: Weights, options: RatioOptions = {}): DecisionPlan {
  const { settings, cycleShare, sprtShare } = settingsOf(options);
  const { table, alternatives, bound } = planFor(expected, options, settings, cycleShare);
  return { table, alternatives, bound, maxSamples: settings.maxSamples, sprtAlpha: settings.alpha * sprtShare, sprtBeta: settings.beta * sprtShare };
}

/** The incremental decider the probe loop drives: push answers until it says "decided". */
export function createRatioDecider(expected: Weights, options: RatioOptions = {}): RatioDecider {
  const { settings, cycleShare, sprtShare } = settingsOf(options);
  return new Decider(planFor(expected, options, settings, cycleShare), settings, sprtShare);
}

/** A pass of the sequential test held back because the answers still repeat a short period. */
interface HeldPass {
  period: number;
  requiredLength: number;
}

/**
 * One decision in progress. A class, not closures: simulations build a million of them, and
 * methods on the prototype cost nothing per decider.
 */
class Decider implements RatioDecider {
  private readonly table: WeightTable;
  private readonly alternatives: readonly Alternative[];
  private readonly bound: CycleBound | undefined;
  private readonly index: Map<string, number>;
  private readonly sprt: Sprt;
  // Codes 0..k−1 are the expected backends, so pushIndex needs no lookup.
  private readonly tracker: PeriodTracker;
  // The shortest period of a prefix never shrinks as it grows: past maxPeriod no cycle can
  // be believed any more, and tracking stops.
  private tracking: boolean;
  private decided: DecidedStep | undefined;
  private stopped: RatioVerdict | undefined;
  readonly maxSamples: number;

  constructor(
    plan: Plan,
    private readonly settings: Settings,
    sprtShare: number,
  ) {
    this.table = plan.table;
    this.alternatives = plan.alternatives;
    this.bound = plan.bound;
    this.index = plan.index;
    this.sprt = new Sprt(plan.table, settings.alpha * sprtShare, settings.beta * sprtShare, plan.alternatives);
    this.tracker = new PeriodTracker(plan.table.labels);
    this.tracking = plan.bound !== undefined;
    this.maxSamples = settings.maxSamples;
  }

  get labels(): readonly string[] {
    return this.table.labels;
  }

  get n(): number {
    return this.sprt.n;
  }

  get verdict(): RatioVerdict | undefined {
    return this.decided?.verdict;
  }

  get decision(): RatioDecision | undefined {
    return this.decided?.decision;
  }

  push(label: string): DeciderStep {
    if (this.decided) return this.decided;
    const i = this.index.get(label);
    if (i !== undefined) {
      this.sprt.pushIndex(i);
      return this.afterAnswer(i);
    }
    this.sprt.push(label);
    return this.afterAnswer(this.tracker.codeFor(label));
  }

  pushIndex(i: number): DeciderStep {
    if (this.decided) return this.decided;
    this.sprt.pushIndex(i);
    return this.afterAnswer(i);
  }

  finish(): RatioVerdict {
    if (this.decided) return this.decided.verdict;
    // The same object for every call while nothing new arrives.
    if (!this.stopped || this.stopped.n !== this.sprt.n) this.stopped = this.sprtVerdict("inconclusive", "stopped", this.heldPass());
    return this.stopped;
  }

  /** After the answer with this tracker code was counted by the sequential test. */
  private afterAnswer(code: number): DeciderStep {
    const { sprt, bound, settings } = this;
    const n = sprt.n;
    if (this.tracking && bound) {
      const tracker = this.tracker;
      tracker.pushCode(code);
      const period = tracker.period;
      if (period > bound.maxPeriod) this.tracking = false;
      else if (n >= MIN_REPETITIONS * period && n >= bound.requiredLength(period)) {
        const cycle = describeCycle(tracker, this.table, bound);
        if (cycle.found) {
          const outcome = cycle.proportional ? "pass" : "fail";
          return this.decide("exact-cycle", outcome, cycle.proportional ? "cycle-matches" : "cycle-differs", () => this.exactVerdict(cycle));
        }
      }
    }
    const state = sprt.state;
    if (state === "fail") return this.decide("sprt", "fail", "alternative-accepted", () => this.sprtVerdict("fail", "alternative-accepted"));
    const nOther = n - sprt.nValid;
    if (nOther > settings.otherAllowance + settings.maxOtherShare * n) {
      return this.decide("sprt", "inconclusive", "too-many-errors", () => this.sprtVerdict("inconclusive", "too-many-errors"));
    }
    // A pass waits while the answers may still be a deterministic cycle (module comment).
    if (state === "pass" && !this.tracking) return this.decide("sprt", "pass", "alternatives-rejected", () => this.sprtVerdict("pass", "alternatives-rejected"));
    if (n >= settings.maxSamples) {
      const held = this.heldPass();
      return this.decide("sprt", "inconclusive", "max-samples", () => this.sprtVerdict("inconclusive", "max-samples", held));
    }
    return CONTINUE;
  }

  /**
   * The verdict (evidence, explanations) is built on first use: simulations that only need
   * the decision skip it, and the state it is built from no longer changes once decided.
   */
  private decide(method: RatioMethod, outcome: RatioOutcome, reason: RatioReason, build: () => RatioVerdict): DeciderStep {
    let verdict: RatioVerdict | undefined;
    this.decided = {
      state: "decided",
      decision: { method, outcome, reason, n: this.sprt.n },
      get verdict() {
        verdict ??= build();
        return verdict;
      },
    };
    return this.decided;
  }

  private heldPass(): HeldPass | undefined {
    const { bound, tracker } = this;
    return this.tracking && bound && this.sprt.state === "pass" ? { period: tracker.period, requiredLength: bound.requiredLength(tracker.period) } : undefined;
  }

  private exactVerdict(cycle: ExactCycle): RatioVerdict {
    const { table, sprt, settings, bound } = this;
    const otherInCycle = Object.keys(cycle.otherCounts).length > 0;
    const evidence: RatioCycleEvidence = {
      period: cycle.period,
      cycle: cycle.cycle,
      counts: cycle.counts,
      otherCounts: cycle.otherCounts,
      repetitions: cycle.repetitions,
      requiredLength: cycle.requiredLength,
      proportional: cycle.proportional,
      chanceBound: cycle.chanceBound,
    };
    const verdict = baseVerdict(table, sprt, settings, bound, "exact-cycle", cycle.proportional ? "pass" : "fail", cycle.proportional ? "cycle-matches" : "cycle-differs");
    verdict.cycle = evidence;
    const cycleShares = normalise(table.labels.map((l) => cycle.counts[l] ?? 0));
    const match = this.alternatives.find((alt) => sameShares(alt.shares, cycleShares));
    if (!cycle.proportional && match && !otherInCycle) verdict.alternative = describeAlternative(table, match);
    verdict.explanation = explainCycle(facts(table, sprt, verdict), cycle.cycle, cycle.repetitions, cycle.proportional, otherInCycle, bound?.maxPeriod ?? 0);
    return verdict;
  }

  private sprtVerdict(outcome: RatioOutcome, reason: RatioReason, held?: HeldPass): RatioVerdict {
    return sprtVerdict(this.table, this.sprt, this.settings, this.bound, outcome, reason, held);
  }
}

/**
 * The whole-sequence form: replays the sequence through the decider and stops at its first
 * decision, so the error bounds are those of the sequential procedure. Answers after the
 * decision are not used (verdict.n says how many were). A sequence that ends undecided gives
 * reason "stopped"; one longer than maxSamples is cut there ("max-samples").
 */
export function decideRatio(sequence: readonly string[], expected: Weights, options: RatioOptions = {}): RatioVerdict {
  const decider = createRatioDecider(expected, options);
  for (const label of sequence) {
    const step = decider.push(label);
    if (step.state === "decided") return step.verdict;
  }
  return decider.finish();
}

function record(labels: readonly string[], values: readonly number[]): Record<string, number> {
  return Object.fromEntries(labels.map((label, i) => [label, values[i] ?? 0]));
}

function describeAlternative(table: WeightTable, alt: Alternative): NonNullable<RatioVerdict["alternative"]> {
  return { name: alt.name, kind: alt.kind, shares: record(table.labels, alt.shares) };
}

function baseVerdict(table: WeightTable, sprt: Sprt, settings: Settings, bound: CycleBound | undefined, method: RatioMethod, outcome: RatioOutcome, reason: RatioReason): RatioVerdict {
  const counts = sprt.countsInOrder();
  const shares = shareEvidence(table, counts, settings.ciLevel);
  const verdict: RatioVerdict = {
    method,
    outcome,
    reason,
    n: sprt.n,
    nValid: sprt.nValid,
    nOther: sprt.nOther,
    counts: record(table.labels, counts),
    otherCounts: sprt.snapshot().otherCounts,
    observedShares: shares.observedShares,
    expectedShares: shares.expectedShares,
    expectedRatio: weightsText(table.weights),
    observedRatio: observedRatioText(counts),
    alpha: settings.alpha,
    beta: settings.beta,
    ci: shares.ci,
    maxSamples: settings.maxSamples,
    maxCycle: bound?.maxPeriod ?? 0,
    explanation: { es: "", en: "" },
  };
  // A deterministic cycle has no sampling distribution: its p-value would mean nothing.
  if (method === "sprt" && shares.pValue !== undefined) {
    verdict.pValue = shares.pValue;
    if (shares.pValueMethod) verdict.pValueMethod = shares.pValueMethod;
  }
  return verdict;
}

function facts(table: WeightTable, sprt: Sprt, verdict: RatioVerdict): ExplainFacts {
  return {
    labels: table.labels,
    counts: sprt.countsInOrder(),
    otherCounts: verdict.otherCounts,
    n: verdict.n,
    nValid: verdict.nValid,
    observedRatio: verdict.observedRatio,
    expectedRatio: verdict.expectedRatio,
  };
}

function sprtVerdict(table: WeightTable, sprt: Sprt, settings: Settings, bound: CycleBound | undefined, outcome: RatioOutcome, reason: RatioReason, held?: HeldPass): RatioVerdict {
  const verdict = baseVerdict(table, sprt, settings, bound, "sprt", outcome, reason);
  const snapshot = sprt.snapshot();
  verdict.alternatives = snapshot.alternatives;
  verdict.llr = Object.fromEntries(snapshot.alternatives.map((alt) => [alt.name, alt.llr]));
  verdict.boundaries = snapshot.boundaries;
  const decisive = snapshot.decisive !== undefined ? sprt.alternatives[snapshot.decisive] : undefined;
  if (decisive && outcome !== "inconclusive") verdict.alternative = describeAlternative(table, decisive);
  const f = facts(table, sprt, verdict);
  switch (reason) {
    case "alternatives-rejected":
      verdict.explanation = explainSprtPass(f, sprt.alternatives.map((a) => a.name), settings.beta, indifference(table, sprt.alternatives));
      break;
    case "alternative-accepted": {
      const status = snapshot.decisive !== undefined ? snapshot.alternatives[snapshot.decisive] : undefined;
      const text = decisive ? alternativeText(decisive.name, decisive.kind, table.labels, decisive.weights) : { es: "?", en: "?" };
      verdict.explanation = explainSprtFail(f, text, status?.llr ?? null, settings.alpha);
      break;
    }
    case "too-many-errors":
      verdict.explanation = explainTooManyErrors(f, settings.maxOtherShare);
      break;
    default: {
      if (held) {
        // The sequential test is satisfied, but a deterministic cycle is not ruled out yet.
        if (Number.isFinite(held.requiredLength)) verdict.suggestedSamples = Math.ceil(held.requiredLength / 100) * 100;
        verdict.explanation = explainCycleUnresolved(f, held.period, held.requiredLength, bound?.maxPeriod ?? 0);
        break;
      }
      const open = sprt.openAlternatives();
      const suggested = suggestSamples(table, open, snapshot.boundaries);
      if (suggested !== undefined) verdict.suggestedSamples = suggested;
      verdict.explanation = explainMaxSamples(f, open.map((a) => a.name), sprt.n, suggested);
    }
  }
  return verdict;
}

/**
 * What a pass of the sequential test cannot tell from the expected ratio: for two backends,
 * the ratios strictly between the nearest alternatives on either side (2:1 and 4:1 for 3:1);
 * the test's pass probability goes from ≤ β at those alternatives to ≥ 1 − α at the expected
 * ratio, and in between it may pass either way (docs/statistics.md measures it).
 */
function indifference(table: WeightTable, alternatives: readonly Alternative[]): Indifference {
  if (table.labels.length !== 2) return { kind: "nearest", nearest: alternatives.filter((a) => a.kind === "neighbour" || a.kind === "equal").map((a) => a.name) };
  const share = table.shares[0] ?? 0;
  let lower: Alternative | undefined;
  let upper: Alternative | undefined;
  for (const alt of alternatives) {
    const s = alt.shares[0] ?? 0;
    if (s <= 0 || s >= 1) continue;
    if (s < share && (!lower || s > (lower.shares[0] ?? 0))) lower = alt;
    if (s > share && (!upper || s < (upper.shares[0] ?? 0))) upper = alt;
  }
  return { kind: "between", ...(lower ? { lower: lower.name } : {}), ...(upper ? { upper: upper.name } : {}) };
}

/**
 * Requests that decide about 95 % of correct labs: twice Wald's average sample number under
 * H0 for the slowest open alternative, 2·ln(1/β)/D(expected ‖ alternative), rounded up to a
 * hundred (simulated: the 95th percentile is 1.7–2 times the mean).
 */
function suggestSamples(table: WeightTable, open: readonly Alternative[], boundaries: SprtBoundaries): number | undefined {
  let worst = 0;
  for (const alt of open) {
    const d = klDivergence(table.shares, alt.shares);
    if (d > 0 && Number.isFinite(d)) worst = Math.max(worst, (2 * boundaries.pass) / d);
  }
  return worst > 0 ? Math.ceil(worst / 100) * 100 : undefined;
}
