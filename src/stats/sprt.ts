/**
 * Sequential probability ratio test (Wald) of "the backends' shares are the expected ones"
 * (H0) against a finite set of plausible wrong configurations H1..HJ (see alternatives.ts).
 *
 * Composite alternative: one SPRT per alternative, run side by side on the same requests.
 * For alternative j the log likelihood ratio is Λ_j = Σ ln(w_x / a_jx) over observed backends x.
 * - Λ_j ≥ ln(1/β): alternative j is rejected (that SPRT stops; it is frozen).
 * - Λ_j ≤ −ln(J/α): alternative j is accepted: the lab FAILS.
 * - all alternatives rejected: the lab PASSES.
 * Why this and not a mixture or GLR: every alternative is a concrete misconfiguration with its
 * own message ("observed 2:1, expected 3:1"), and the per-alternative LLRs are the evidence.
 * The bounds need no approximation: exp(−Λ_j) is a nonnegative martingale under H0 and exp(Λ_j)
 * one under Hj, so Ville's inequality gives P_H0(Λ_j ever ≤ −ln(J/α)) ≤ α/J, hence
 * P(fail | correct lab) ≤ α by the union bound (Bonferroni, costing only ln J ≈ 2 nats), and
 * P_Hj(Λ_j ever ≥ ln(1/β)) ≤ β: under alternative j a pass needs SPRT j itself to be fooled,
 * so β needs no split. These hold at any stopping time, so truncation at the sample budget
 * (inconclusive) and the decider's other stopping rules can only lower the error rates.
 * For two backends the shares form a one-parameter exponential family; the SPRT's operating
 * characteristic is monotone, so a lab further from the expected ratio than an alternative
 * (10:1 when 4:1 is an alternative to 3:1) passes with probability below β as well.
 *
 * Observations whose label is not an expected backend (errors, unknown pages) carry no
 * information about the ratio: they are counted apart and reported, never fed to the test.
 */

import { alternativesFrom, plausibleAlternatives, type Alternative, type AlternativeKind } from "./alternatives.js";
import { sharesPValue, wilsonInterval, type PValueMethod } from "./distributions.js";
import { toWeightTable, type WeightTable, type Weights } from "./weights.js";

export interface SprtOptions {
  /** P(fail | correct lab) bound; default 0.001. */
  alpha?: number;
  /** P(pass | lab at one of the alternatives) bound; default 0.001. */
  beta?: number;
  /** Wrong configurations to test against (weights per label); default: the plausible ones. */
  alternatives?: readonly Weights[];
}

export type SprtState = "continue" | "pass" | "fail";

export interface SprtAlternativeStatus {
  name: string;
  kind: AlternativeKind;
  weights: Record<string, number>;
  shares: Record<string, number>;
  /** ln L(H0)/L(this alternative); null when an observed backend is impossible under it. */
  llr: number | null;
  /** rejected: ruled out (H0 preferred); accepted: the lab matches it (fail); open: undecided. */
  decision: "rejected" | "accepted" | "open";
  /** The backend whose answer ruled this alternative out at once. */
  excludedBy?: string;
}

export interface SprtBoundaries {
  /** Λ_j at or above this rejects alternative j: ln(1/β). */
  pass: number;
  /** Λ_j at or below this accepts alternative j (fail): −ln(J/α). */
  fail: number;
  alternatives: number;
}

export interface SprtSnapshot {
  state: SprtState;
  /** All observations, errors included. */
  n: number;
  /** Observations of expected backends (the test's sample). */
  nValid: number;
  counts: Record<string, number>;
  otherCounts: Record<string, number>;
  alternatives: SprtAlternativeStatus[];
  boundaries: SprtBoundaries;
  /** Index into `alternatives`: the accepted one on fail, the last one rejected on pass. */
  decisive?: number;
  alpha: number;
  beta: number;
}

export const DEFAULT_ALPHA = 0.001;
export const DEFAULT_BETA = 0.001;

export class Sprt {
  readonly table: WeightTable;
  readonly alternatives: readonly Alternative[];
  readonly boundaries: SprtBoundaries;
  private readonly index = new Map<string, number>();
  /** increments[j * K + i]: ln(w_i / a_ji); +Infinity where a_ji = 0. */
  private readonly increments: Float64Array;
  private readonly llr: Float64Array;
  private readonly decisions: Int8Array;
  private readonly excludedBy: (string | undefined)[];
  private readonly countsByIndex: Int32Array;
  private readonly others = new Map<string, number>();
  private open: number;
  private total = 0;
  private valid = 0;
  private current: SprtState = "continue";
  private decisiveIndex: number | undefined;

  constructor(
    expected: Weights | WeightTable,
    readonly alpha = DEFAULT_ALPHA,
    readonly beta = DEFAULT_BETA,
    alternatives?: readonly Alternative[],
  ) {
    if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
    if (!(beta > 0 && beta < 1)) throw new RangeError(`beta must be in (0, 1), got ${beta}`);
    this.table = isTable(expected) ? expected : toWeightTable(expected);
    this.alternatives = alternatives ?? plausibleAlternatives(this.table);
    const k = this.table.labels.length;
    const j = this.alternatives.length;
    this.table.labels.forEach((label, i) => this.index.set(label, i));
    this.increments = new Float64Array(j * k);
    this.alternatives.forEach((alt, a) => {
      for (let i = 0; i < k; i++) {
        const share = alt.shares[i] ?? 0;
        this.increments[a * k + i] = share === 0 ? Infinity : Math.log((this.table.shares[i] ?? 0) / share);
      }
    });
    this.llr = new Float64Array(j);
    this.decisions = new Int8Array(j);
    this.excludedBy = new Array<string | undefined>(j).fill(undefined);
    this.countsByIndex = new Int32Array(k);
    this.open = j;
    this.boundaries = { pass: Math.log(1 / beta), fail: -Math.log(Math.max(1, j) / alpha), alternatives: j };
  }

  /**
   * Feed one observed label. After a decision the state and the LLRs stay as they were, but
   * answers are still counted (the decider may hold a pass back, see decide.ts).
   */
  push(label: string): SprtState {
    const i = this.index.get(label);
    if (i === undefined) {
      this.total++;
      this.others.set(label, (this.others.get(label) ?? 0) + 1);
      return this.current;
    }
    return this.pushIndex(i);
  }

  /** Feed one answer of the expected backend with index i (label order). */
  pushIndex(i: number): SprtState {
    this.total++;
    this.valid++;
    const counts = this.countsByIndex;
    counts[i] = (counts[i] ?? 0) + 1;
    if (this.current !== "continue") return this.current;
    const k = counts.length;
    const { pass, fail } = this.boundaries;
    const llr = this.llr;
    const decisions = this.decisions;
    const increments = this.increments;
    for (let a = 0; a < llr.length; a++) {
      if (decisions[a] !== 0) continue;
      const value = (llr[a] ?? 0) + (increments[a * k + i] ?? 0);
      llr[a] = value;
      if (value >= pass) {
        decisions[a] = 1;
        if (this.increments[a * k + i] === Infinity) this.excludedBy[a] = this.table.labels[i];
        this.open--;
        this.decisiveIndex = a;
      } else if (value <= fail) {
        decisions[a] = -1;
        this.decisiveIndex = a;
        this.current = "fail";
        return this.current;
      }
    }
    if (this.open === 0) this.current = "pass";
    return this.current;
  }

  get state(): SprtState {
    return this.current;
  }

  get n(): number {
    return this.total;
  }

  get nValid(): number {
    return this.valid;
  }

  get nOther(): number {
    return this.total - this.valid;
  }

  /** Counts per expected label, in label order. */
  countsInOrder(): number[] {
    return Array.from(this.countsByIndex);
  }

  /** Open alternatives (neither rejected nor accepted). */
  openAlternatives(): Alternative[] {
    return this.alternatives.filter((_, a) => this.decisions[a] === 0);
  }

  snapshot(): SprtSnapshot {
    const labels = this.table.labels;
    const record = (values: readonly number[]): Record<string, number> =>
      Object.fromEntries(labels.map((label, i) => [label, values[i] ?? 0]));
    const snapshot: SprtSnapshot = {
      state: this.current,
      n: this.total,
      nValid: this.valid,
      counts: record(Array.from(this.countsByIndex)),
      otherCounts: Object.fromEntries(this.others),
      alternatives: this.alternatives.map((alt, a) => {
        const value = this.llr[a] ?? 0;
        const decision = this.decisions[a];
        const status: SprtAlternativeStatus = {
          name: alt.name,
          kind: alt.kind,
          weights: record(alt.weights),
          shares: record(alt.shares),
          llr: Number.isFinite(value) ? value : null,
          decision: decision === 1 ? "rejected" : decision === -1 ? "accepted" : "open",
        };
        const excluded = this.excludedBy[a];
        if (excluded !== undefined) status.excludedBy = excluded;
        return status;
      }),
      boundaries: { ...this.boundaries },
      alpha: this.alpha,
      beta: this.beta,
    };
    if (this.decisiveIndex !== undefined && this.current !== "continue") snapshot.decisive = this.decisiveIndex;
    return snapshot;
  }
}

function isTable(value: Weights | WeightTable): value is WeightTable {
  return Array.isArray((value as WeightTable).labels) && Array.isArray((value as WeightTable).shares);
}

/** An SPRT for `expected`, with the plausible (or the given) alternatives. */
export function createSprt(expected: Weights, options: SprtOptions = {}): Sprt {
  const table = toWeightTable(expected);
  const alternatives = options.alternatives ? alternativesFrom(table, options.alternatives) : plausibleAlternatives(table);
  return new Sprt(table, options.alpha ?? DEFAULT_ALPHA, options.beta ?? DEFAULT_BETA, alternatives);
}

export interface ShareEvidence {
  observedShares: Record<string, number>;
  expectedShares: Record<string, number>;
  /** Wilson score interval per share. */
  ci: { level: number; method: "wilson"; shares: Record<string, [number, number]> };
  /** Exact test of H0 on the counts; descriptive only (optional stopping). Absent with no valid answer. */
  pValue?: number;
  pValueMethod?: PValueMethod;
}

/** Observed and expected shares, their intervals and the exact test, for evidence. */
export function shareEvidence(table: WeightTable, counts: readonly number[], level: number): ShareEvidence {
  const nValid = counts.reduce((s, c) => s + c, 0);
  const record = (values: readonly number[]): Record<string, number> => Object.fromEntries(table.labels.map((label, i) => [label, values[i] ?? 0]));
  const evidence: ShareEvidence = {
    observedShares: record(counts.map((c) => (nValid > 0 ? c / nValid : 0))),
    expectedShares: record(table.shares),
    ci: {
      level,
      method: "wilson",
      shares: Object.fromEntries(table.labels.map((label, i) => [label, wilsonInterval(counts[i] ?? 0, nValid, level)])),
    },
  };
  if (nValid > 0) {
    const { pValue, method } = sharesPValue(counts, table.shares);
    evidence.pValue = pValue;
    evidence.pValueMethod = method;
  }
  return evidence;
}

export interface SprtRun extends SprtSnapshot, ShareEvidence {
  /** The state is `continue` when the sequence (or maxN) ran out first. */
  exhausted: boolean;
}

/** Feed a whole sequence (at most `maxN` labels), stopping at the first decision. */
export function runSprt(sequence: readonly string[], expected: Weights, options: SprtOptions & { maxN?: number; ciLevel?: number } = {}): SprtRun {
  const sprt = createSprt(expected, options);
  const limit = Math.min(sequence.length, options.maxN ?? Infinity);
  for (let i = 0; i < limit && sprt.state === "continue"; i++) sprt.push(sequence[i] ?? "");
  return { ...sprt.snapshot(), ...shareEvidence(sprt.table, sprt.countsInOrder(), options.ciLevel ?? 0.95), exhausted: sprt.state === "continue" };
}
