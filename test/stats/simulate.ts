/**
 * Simulated balancers for measuring the ratio decider's real error rates. Each source yields
 * one label per call, the way the probe loop would see answers arrive.
 */

import { apacheByrequestsOrder, binomialUpperTail, clopperPearsonUpper, createRandom, createRatioDecider, lvsWrrOrder, type Random, type RatioOptions, type Weights } from "../../src/stats/index.js";

export type Source = () => string;
export type SourceFactory = (random: Random) => Source;

/** A random scheduler: i.i.d. draws with the given shares (many clients, or LVS with persistence per client). */
export function iid(shares: Record<string, number>): SourceFactory {
  const labels = Object.keys(shares);
  const values = labels.map((l) => shares[l] ?? 0);
  const total = values.reduce((s, v) => s + v, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const v of values) cumulative.push((acc += v / total));
  return (random) => () => {
    const u = random.next();
    for (let i = 0; i < cumulative.length; i++) if (u < (cumulative[i] ?? 1)) return labels[i] ?? "";
    return labels[labels.length - 1] ?? "";
  };
}

/** A deterministic scheduler's cycle, started at a random phase. */
export function cycle(order: readonly string[]): SourceFactory {
  return (random) => {
    let i = random.int(order.length);
    return () => order[i++ % order.length] ?? "";
  };
}

/** Apache byrequests order for weights in label order, as labels. */
export function apacheCycle(weights: Weights): string[] {
  const labels = Object.keys(weights);
  const factors = labels.map((l) => weights[l] ?? 0);
  const length = factors.reduce((s, f) => s + f, 0);
  return apacheByrequestsOrder(factors, length).map((i) => labels[i] ?? "");
}

/** LVS wrr order for weights in label order, as labels. */
export function lvsCycle(weights: Weights): string[] {
  const labels = Object.keys(weights);
  const factors = labels.map((l) => weights[l] ?? 0);
  const length = factors.reduce((s, f) => s + f, 0);
  return lvsWrrOrder(factors, length).map((i) => labels[i] ?? "");
}

/**
 * Other clients share the scheduler: each turn of the cycle is taken by someone else with
 * probability `otherShare` (in bursts of 1–3 turns), so our client sees a thinned cycle.
 */
export function interleaved(order: readonly string[], otherShare: number): SourceFactory {
  return (random) => {
    let i = random.int(order.length);
    return () => {
      while (random.next() < otherShare) i += 1 + random.int(3);
      return order[i++ % order.length] ?? "";
    };
  };
}

/** Concurrent probes: answers arrive with neighbours swapped with probability `swapShare`. */
export function reordered(order: readonly string[], swapShare: number): SourceFactory {
  return (random) => {
    let i = random.int(order.length);
    let held: string | undefined;
    return () => {
      if (held !== undefined) {
        const out = held;
        held = undefined;
        return out;
      }
      const a = order[i++ % order.length] ?? "";
      if (random.next() < swapShare) {
        held = a;
        return order[i++ % order.length] ?? "";
      }
      return a;
    };
  };
}

/** Answers from `source`, except that each is an error with probability `errorShare`. */
export function withErrors(factory: SourceFactory, errorShare: number, label = "error"): SourceFactory {
  return (random) => {
    const source = factory(random);
    return () => (random.next() < errorShare ? label : source());
  };
}

export interface Scenario {
  name: string;
  expected: Weights;
  source: SourceFactory;
  /** What a correct grader says: pass for correct labs, fail for wrong ones. */
  truth: "pass" | "fail";
  runs: number;
  options?: RatioOptions;
}

export interface ScenarioResult {
  name: string;
  truth: "pass" | "fail";
  runs: number;
  pass: number;
  fail: number;
  inconclusive: number;
  /** Wrong verdicts: fail on a correct lab, pass on a wrong lab. */
  wrong: number;
  /** One-sided 95 % Clopper–Pearson upper bound on the wrong-verdict rate. */
  wrongRateUpper95: number;
  /** P(X ≥ wrong) for X ~ Binomial(runs, 0.001): small means "more errors than a 0.001 rate gives". */
  consistencyPValue: number;
  byCycle: number;
  meanN: number;
  p50N: number;
  p95N: number;
  p99N: number;
  maxN: number;
  /** Share of runs still undecided after this many requests (the spec's sampling.maxRequests). */
  undecidedAfter: Record<number, number>;
}

export const BUDGETS = [400, 1000, 2000, 4000] as const;

export function runScenario(scenario: Scenario, seed: number): ScenarioResult {
  const random = createRandom(seed);
  const ns = new Int32Array(scenario.runs);
  let pass = 0;
  let fail = 0;
  let inconclusive = 0;
  let byCycle = 0;
  const options: RatioOptions = { maxSamples: 20_000, ...scenario.options };
  for (let run = 0; run < scenario.runs; run++) {
    const decider = createRatioDecider(scenario.expected, options);
    const next = scenario.source(random);
    let step = decider.push(next());
    while (step.state === "continue") step = decider.push(next());
    const verdict = step.verdict;
    ns[run] = verdict.n;
    if (verdict.method === "exact-cycle") byCycle++;
    if (verdict.outcome === "pass") pass++;
    else if (verdict.outcome === "fail") fail++;
    else inconclusive++;
  }
  const sorted = Array.from(ns).sort((a, b) => a - b);
  const quantile = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const wrong = scenario.truth === "pass" ? fail : pass;
  const undecidedAfter: Record<number, number> = {};
  for (const budget of BUDGETS) undecidedAfter[budget] = sorted.filter((n) => n > budget).length / scenario.runs;
  return {
    name: scenario.name,
    truth: scenario.truth,
    runs: scenario.runs,
    pass,
    fail,
    inconclusive,
    wrong,
    wrongRateUpper95: clopperPearsonUpper(wrong, scenario.runs, 0.95),
    consistencyPValue: binomialUpperTail(wrong, scenario.runs, 0.001),
    byCycle,
    meanN: sorted.reduce((s, n) => s + n, 0) / scenario.runs,
    p50N: quantile(0.5),
    p95N: quantile(0.95),
    p99N: quantile(0.99),
    maxN: sorted[sorted.length - 1] ?? 0,
    undecidedAfter,
  };
}

export function formatResults(title: string, results: readonly ScenarioResult[]): string {
  const header = "| scenario | runs | pass | fail | inconcl. | wrong | wrong-rate ≤ (95 %) | by cycle | mean n | p95 n | max n | undecided @400/1000/2000 |";
  const rule = "|---|---|---|---|---|---|---|---|---|---|---|---|";
  const rows = results.map((r) =>
    [
      r.name,
      r.runs,
      r.pass,
      r.fail,
      r.inconclusive,
      r.wrong,
      r.wrongRateUpper95.toExponential(1),
      r.byCycle,
      r.meanN.toFixed(0),
      r.p95N,
      r.maxN,
      `${pct(r.undecidedAfter[400])}/${pct(r.undecidedAfter[1000])}/${pct(r.undecidedAfter[2000])}`,
    ].join(" | "),
  );
  return [`${title}`, header, rule, ...rows.map((row) => `| ${row} |`)].join("\n");
}

function pct(value: number | undefined): string {
  return `${(100 * (value ?? 0)).toFixed(1)}%`;
}
