/**
 * The sequential test against the fixed-sample test on the same random workload: simulated
 * labs whose answers are independent draws (a random scheduler, or many clients), decided by
 * the real createRatioDecider until it decides, beside the smallest n of a fixed-sample
 * binomial test at the same α, β and alternatives (fixedSampleSize). No lab is needed; the
 * seeds are fixed, so two benches print the same figures.
 */
import { createRandom, createRatioDecider, fixedSampleSize, plausibleAlternatives, toWeightTable } from "../../src/stats/index.js";

export interface RandomWorkloadFigure {
  /** The ratio the lab should have, "3:1". */
  expected: string;
  /** The ratio its answers are drawn with. */
  truth: string;
  runs: number;
  /** Runs whose verdict is right (pass on a correct lab, fail on a wrong one). */
  right: number;
  meanN: number;
  medianN: number;
  p95N: number;
  /** Runs still undecided after the default budget (sampling.maxRequests = 400). */
  undecidedAt400: number;
  fixedN: number | undefined;
  /** medianN / fixedN. */
  ratio: number | undefined;
}

/** The cases: each expected ratio of the labs at itself, and 3:1's nearest wrong ratios. */
export const RANDOM_WORKLOADS: readonly { expected: [number, number]; truth: [number, number] }[] = [
  { expected: [1, 1], truth: [1, 1] },
  { expected: [2, 1], truth: [2, 1] },
  { expected: [3, 1], truth: [3, 1] },
  { expected: [3, 1], truth: [2, 1] },
  { expected: [3, 1], truth: [4, 1] },
];

export function randomWorkload(runs: number, seed = 1): RandomWorkloadFigure[] {
  return RANDOM_WORKLOADS.map(({ expected, truth }, index) => {
    const weights = { "1": expected[0], "2": expected[1] };
    const table = toWeightTable(weights);
    const fixedN = fixedSampleSize(table.shares[0] ?? 0, plausibleAlternatives(table).map((a) => a.shares[0] ?? 0), 0.001, 0.001);
    const share = truth[0] / (truth[0] + truth[1]);
    const correct = expected[0] * truth[1] === expected[1] * truth[0];
    const random = createRandom(seed * 1000 + index);
    const ns: number[] = [];
    let right = 0;
    for (let run = 0; run < runs; run++) {
      const decider = createRatioDecider(weights, { maxSamples: 50_000 });
      for (;;) {
        const step = decider.pushIndex(random.next() < share ? 0 : 1);
        if (step.state !== "decided") continue;
        ns.push(step.decision.n);
        if (step.decision.outcome === (correct ? "pass" : "fail")) right++;
        break;
      }
    }
    ns.sort((a, b) => a - b);
    const at = (q: number) => ns[Math.min(ns.length - 1, Math.floor(q * ns.length))] ?? 0;
    const medianN = at(0.5);
    return {
      expected: expected.join(":"),
      truth: truth.join(":"),
      runs,
      right,
      meanN: Math.round(ns.reduce((s, n) => s + n, 0) / Math.max(1, ns.length)),
      medianN,
      p95N: at(0.95),
      undecidedAt400: ns.filter((n) => n > 400).length / Math.max(1, ns.length),
      fixedN,
      ratio: fixedN ? medianN / fixedN : undefined,
    };
  });
}
