/**
 * The indifference zone of the sequential test (sprt.ts) for two backends: the true shares it
 * cannot tell from the expected ones. Each alternative j is tested by the log-likelihood ratio
 * Λ_j = Σ ln(w_x / a_jx); under answers drawn with share θ for backend 1 it drifts by
 *
 *   d_j(θ) = θ·ln(p / a_j) + (1 − θ)·ln((1 − p) / (1 − a_j))
 *
 * per answer (p, a_j: backend 1's expected and alternative shares). d_j is linear in θ, zero at
 * one θ_j between p and a_j. Where every d_j > 0 every alternative is rejected in the end: the
 * lab passes, whatever its true ratio. So the zone is the interval between the nearest
 * alternatives' θ_j, and a lab anywhere in it passes as the expected ratio given the requests;
 * outside it some Λ_j drifts down and the lab fails. Near an edge the drift is small and either
 * verdict takes many requests (test/stats/indifference.test.ts measures how many).
 */

import type { Alternative } from "./alternatives.js";
import type { WeightTable } from "./weights.js";

export interface IndifferenceZone {
  /** Backend 1's share at the zone's edges. */
  low: number;
  high: number;
  /** The same as ratios backend 1 : backend 2 (share / (1 − share)). */
  lowRatio: number;
  highRatio: number;
  /** The alternatives whose zero-drift points are the edges. */
  lowAlternative: string;
  highAlternative: string;
}

/** Per-answer drift of alternative `a`'s LLR (shares of backend 1) when answers have share θ. */
export function llrDrift(p: number, a: number, theta: number): number {
  const one = a === 0 ? Number.POSITIVE_INFINITY : Math.log(p / a);
  const two = a === 1 ? Number.POSITIVE_INFINITY : Math.log((1 - p) / (1 - a));
  return (theta > 0 ? theta * one : 0) + (theta < 1 ? (1 - theta) * two : 0);
}

/** The zone for two backends; undefined for more (the shares are then not one parameter). */
export function indifferenceZone(table: WeightTable, alternatives: readonly Alternative[]): IndifferenceZone | undefined {
  if (table.shares.length !== 2) return undefined;
  const p = table.shares[0] ?? 0;
  let low = { share: 0, name: "" };
  let high = { share: 1, name: "" };
  for (const alternative of alternatives) {
    const a = alternative.shares[0] ?? 0;
    // A backend that gets nothing under the alternative: one answer of it rejects the alternative.
    if (a <= 0 || a >= 1) continue;
    const one = Math.log(p / a);
    const two = Math.log((1 - p) / (1 - a));
    const zero = two / (two - one);
    if (a < p && zero > low.share) low = { share: zero, name: alternative.name };
    if (a > p && zero < high.share) high = { share: zero, name: alternative.name };
  }
  const ratio = (s: number) => (s >= 1 ? Number.POSITIVE_INFINITY : s / (1 - s));
  return { low: low.share, high: high.share, lowRatio: ratio(low.share), highRatio: ratio(high.share), lowAlternative: low.name, highAlternative: high.name };
}
