/**
 * The wrong configurations a ratio test must tell apart from the expected one. A student who
 * was asked for 3:1 typically leaves rr/1:1 (weights ignored), is one off (2:1, 4:1, 3:2),
 * swaps the backends (1:3) or has one backend down or missing from the pool. The sequential
 * test is built to reject exactly these with bounded error; ratios strictly between the
 * expected one and its nearest alternatives form the indifference zone no finite sample can
 * resolve, and are left to the sample budget (inconclusive).
 */

import { normalise, reduceWeights, sameShares, StatsInputError, weightsText, type WeightTable, type Weights } from "./weights.js";

export type AlternativeKind =
  /** All backends the same weight: rr, or the weights were never changed. */
  | "equal"
  /** One weight a step off (2:1 or 4:1 or 3:2 for 3:1). */
  | "neighbour"
  /** The same weights on the wrong backends (1:3 for 3:1). */
  | "swapped"
  /** One backend gets nothing (down, or missing from the pool) while others share. */
  | "without"
  /** A single backend gets everything. */
  | "only";

export interface Alternative {
  /** The configuration as a ratio in label order, e.g. "2:1" or "1:0". */
  name: string;
  kind: AlternativeKind;
  weights: number[];
  shares: number[];
}

function classify(weights: readonly number[], expected: readonly number[]): AlternativeKind {
  const positive = weights.filter((w) => w > 0).length;
  if (positive === 1) return "only";
  if (positive < weights.length) return "without";
  if (weights.every((w) => w === weights[0])) return "equal";
  const sortedA = [...weights].sort((a, b) => a - b);
  const sortedB = [...reduceWeights(expected)].sort((a, b) => a - b);
  if (sameShares(normalise(sortedA), normalise(sortedB))) return "swapped";
  return "neighbour";
}

/**
 * The nearest plausible wrong configurations of `expected`:
 * - each weight one step up and one step down (a step is 1, or a third of the weight for
 *   weights above 4, so that loadfactor 100 is compared with 67 and 133, not 99 and 101,
 *   which no sample budget could separate);
 * - all weights equal; every swap of two different weights;
 * - each backend alone, and each backend missing.
 * Duplicates and the expected shares themselves are removed.
 */
export function plausibleAlternatives(table: WeightTable): Alternative[] {
  const integral = table.weights.every((w) => Number.isInteger(w));
  let base: number[];
  if (integral) {
    base = reduceWeights(table.weights);
  } else {
    const smallest = Math.min(...table.weights);
    base = table.weights.map((w) => w / smallest);
  }
  const step = (w: number): number => (integral ? Math.max(1, Math.round(w / 3)) : Math.max(1, w / 3));
  const k = base.length;
  const candidates: number[][] = [];
  for (let i = 0; i < k; i++) {
    const w = base[i] ?? 0;
    for (const next of [w - step(w), w + step(w)]) {
      const changed = [...base];
      changed[i] = Math.max(0, next);
      candidates.push(changed);
    }
  }
  candidates.push(base.map(() => 1));
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      if (base[i] === base[j]) continue;
      const swapped = [...base];
      swapped[i] = base[j] ?? 0;
      swapped[j] = base[i] ?? 0;
      candidates.push(swapped);
    }
  }
  for (let i = 0; i < k; i++) {
    candidates.push(base.map((_, j) => (j === i ? 1 : 0)));
    candidates.push(base.map((w, j) => (j === i ? 0 : w)));
  }
  return dedupe(candidates, table);
}

/** Alternatives given by the caller (weights per label; labels missing from one get 0). */
export function alternativesFrom(table: WeightTable, custom: readonly Weights[], field = "alternatives"): Alternative[] {
  const candidates = custom.map((weights, index) => {
    for (const label of Object.keys(weights)) {
      if (!table.labels.includes(label)) {
        throw new StatsInputError(`${field}[${index}].${label}: not one of the expected backend labels (${table.labels.join(", ")}).`);
      }
    }
    return table.labels.map((label) => {
      const w = weights[label] ?? 0;
      if (!Number.isFinite(w) || w < 0) throw new StatsInputError(`${field}[${index}].${label}: must be a finite weight ≥ 0 (got ${w}).`);
      return w;
    });
  });
  for (const [index, weights] of candidates.entries()) {
    if (!weights.some((w) => w > 0)) throw new StatsInputError(`${field}[${index}]: at least one backend needs a positive weight.`);
  }
  return dedupe(candidates, table);
}

function dedupe(candidates: readonly number[][], table: WeightTable): Alternative[] {
  const out: Alternative[] = [];
  for (const weights of candidates) {
    if (!weights.some((w) => w > 0)) continue;
    const shares = normalise(weights);
    if (sameShares(shares, table.shares)) continue;
    if (out.some((alt) => sameShares(alt.shares, shares))) continue;
    const reduced = reduceWeights(weights);
    // Names key the evidence's LLR table; rounded non-integer ratios could collide.
    let name = weightsText(reduced);
    if (out.some((alt) => alt.name === name)) name = `${name}#${out.length + 1}`;
    out.push({ name, kind: classify(reduced, table.weights), weights: reduced, shares });
  }
  return out;
}

/** Kullback–Leibler divergence D(p ‖ q) in nats; Infinity where q misses p's support. */
export function klDivergence(p: readonly number[], q: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] ?? 0;
    if (pi === 0) continue;
    const qi = q[i] ?? 0;
    if (qi === 0) return Infinity;
    d += pi * Math.log(pi / qi);
  }
  return d;
}
