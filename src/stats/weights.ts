/**
 * Expected weights per backend label, as the lab spec gives them (LVS `weight`, Apache
 * `loadfactor`), turned into the shares the statistical tests compare against.
 */

/** Backend label (the identity a page shows, e.g. "1") → expected weight. */
export type Weights = Readonly<Record<string, number>>;

export interface WeightTable {
  /** Backend labels in the order the ratio is written ("3:1" means labels[0]:labels[1]). */
  labels: string[];
  weights: number[];
  /** weights / sum(weights). */
  shares: number[];
}

/**
 * A caller passed weights that no lab can have. Lab specs are validated by the config schema
 * before they reach the statistics, so this signals a bug in the caller, not a student error.
 */
export class StatsInputError extends Error {
  override name = "StatsInputError";
}

export function toWeightTable(weights: Weights, field = "expectedWeights"): WeightTable {
  const labels = Object.keys(weights);
  if (labels.length < 2) {
    throw new StatsInputError(
      `${field}: needs at least 2 backend labels with a weight (got ${labels.length}); a ratio needs two backends.`,
    );
  }
  const values: number[] = [];
  for (const label of labels) {
    const weight = weights[label];
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight <= 0) {
      throw new StatsInputError(
        `${field}.${label}: must be a positive finite number (got ${String(weight)}); write the backend's weight or loadfactor, e.g. 1 or 3.`,
      );
    }
    values.push(weight);
  }
  return { labels, weights: values, shares: normalise(values) };
}

export function normalise(values: readonly number[]): number[] {
  let total = 0;
  for (const v of values) total += v;
  return values.map((v) => (total > 0 ? v / total : 0));
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return Math.abs(a);
}

/** Integer weights divided by their greatest common divisor (6:2 → 3:1); others unchanged. */
export function reduceWeights(weights: readonly number[]): number[] {
  if (!weights.every((w) => Number.isInteger(w))) return [...weights];
  const divisor = weights.reduce((g, w) => gcd(g, w), 0);
  return divisor > 0 ? weights.map((w) => w / divisor) : [...weights];
}

/** Length of one cycle of a deterministic weighted round robin with these weights (3:1 → 4). */
export function cycleLength(weights: readonly number[]): number | undefined {
  if (!weights.every((w) => Number.isInteger(w))) return undefined;
  return reduceWeights(weights).reduce((sum, w) => sum + w, 0);
}

/** Two shares vectors describe the same configuration. */
export function sameShares(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - (b[i] ?? Number.NaN)) < 1e-9);
}

/** A configuration's ratio as students write it: "3:1" (integer weights reduced, 6:2 → 3:1). */
export function weightsText(weights: readonly number[]): string {
  const reduced = reduceWeights(weights);
  return reduced.every((v) => Number.isInteger(v)) ? reduced.join(":") : observedRatioText(weights);
}

/**
 * Observed counts as a ratio a student compares with the config: scaled so the smallest
 * non-zero count is 1, one decimal, trailing ".0" dropped (200/100 → "2:1", 203/97 → "2.1:1").
 */
export function observedRatioText(counts: readonly number[]): string {
  const positive = counts.filter((v) => v > 0);
  if (positive.length === 0) return counts.map(() => "0").join(":");
  const smallest = Math.min(...positive);
  return counts
    .map((v) => {
      const scaled = Math.round((v / smallest) * 10) / 10;
      return Number.isInteger(scaled) ? String(scaled) : scaled.toFixed(1);
    })
    .join(":");
}
