/**
 * Simulated balancers for measuring the ratio decider's real error rates. A source yields one
 * answer per call as a number: the index of the backend in the expected weights' order, or −1
 * for an error. No per-request objects: the decider is fed with pushIndex, and only its
 * decision (not the evidence) is read, so a million verdicts cost seconds.
 */

import { binomialUpperTail, clopperPearsonUpper, createRandom, createRatioDecider, schedulerCycle, type Random, type RatioDecision, type RatioOptions, type SchedulerName, type Weights } from "../../src/stats/index.js";
import { binomialLowerTail } from "../../src/stats/distributions.js";

/** The next answer: a backend index, or −1 for an error. */
export type Source = () => number;
export type SourceFactory = (random: Random) => Source;

/** A random scheduler: i.i.d. draws with these shares (many clients, or LVS with persistence per client). */
export function iid(shares: readonly number[]): SourceFactory {
  const total = shares.reduce((s, v) => s + v, 0);
  const cumulative = new Float64Array(shares.length);
  let acc = 0;
  shares.forEach((v, i) => (cumulative[i] = acc += v / total));
  const last = shares.length - 1;
  return (random) => () => {
    const u = random.next();
    for (let i = 0; i < last; i++) if (u < (cumulative[i] ?? 1)) return i;
    return last;
  };
}

/** A deterministic scheduler's cycle (backend indexes), started at a random phase. */
export function cycle(order: ArrayLike<number>): SourceFactory {
  return (random) => {
    let i = random.int(order.length);
    return () => {
      const out = order[i] ?? 0;
      i = i + 1 === order.length ? 0 : i + 1;
      return out;
    };
  };
}

/** One cycle of a real scheduler with these weights (label order). */
export function schedulerOrder(scheduler: SchedulerName, weights: readonly number[]): Uint8Array {
  return schedulerCycle(scheduler, weights);
}

/**
 * Other clients share the scheduler: each turn of the cycle is taken by someone else with
 * probability `otherShare` (in bursts of 1–3 turns), so our client sees a thinned cycle.
 */
export function interleaved(order: ArrayLike<number>, otherShare: number): SourceFactory {
  return (random) => {
    let i = random.int(order.length);
    return () => {
      while (random.next() < otherShare) i += 1 + random.int(3);
      return order[i++ % order.length] ?? 0;
    };
  };
}

/** Concurrent probes: answers arrive with neighbours swapped with probability `swapShare`. */
export function reordered(order: ArrayLike<number>, swapShare: number): SourceFactory {
  return (random) => {
    let i = random.int(order.length);
    let held = -2;
    return () => {
      if (held !== -2) {
        const out = held;
        held = -2;
        return out;
      }
      const a = order[i++ % order.length] ?? 0;
      if (random.next() < swapShare) {
        held = a;
        return order[i++ % order.length] ?? 0;
      }
      return a;
    };
  };
}

/** Answers from `source`, except that each is an error with probability `errorShare`. */
export function withErrors(factory: SourceFactory, errorShare: number): SourceFactory {
  return (random) => {
    const source = factory(random);
    return () => (random.next() < errorShare ? -1 : source());
  };
}

/** What the harness drives: the real decider, or a stand-in (the sizing demonstration). */
export interface SimDecider {
  /** Feed one answer; the decision once there is one. */
  push(answer: number): RatioDecision | undefined;
}

export type DeciderFactory = (expected: Weights, options: RatioOptions) => SimDecider;

/** createRatioDecider, fed by index. */
export const realDecider: DeciderFactory = (expected, options) => {
  const decider = createRatioDecider(expected, options);
  return {
    push(answer) {
      const step = answer < 0 ? decider.push("error") : decider.pushIndex(answer);
      return step.state === "decided" ? step.decision : undefined;
    },
  };
};

export interface Scenario {
  name: string;
  /** Expected weights in label order ("1", "2", …). */
  expected: readonly number[];
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
  maxN: number;
  /** Share of runs still undecided after this many requests (the spec's sampling.maxRequests). */
  undecidedAfter: Record<number, number>;
  /** Answers fed in all. */
  answers: number;
  /** The fewest answers any pass used (Infinity without a pass). */
  minPassN: number;
}

export const BUDGETS = [400, 1000, 2000, 4000] as const;

/** Every run until a decision, with a budget far past any sample size a lab would use. */
export const SIMULATION_BUDGET = 20_000;

export function weightsRecord(weights: readonly number[]): Weights {
  return Object.fromEntries(weights.map((w, i) => [String(i + 1), w]));
}

/** Let the test worker answer its runner now and then: a long synchronous loop starves its RPC. */
export function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export async function runScenario(scenario: Scenario, seed: number, factory: DeciderFactory = realDecider): Promise<ScenarioResult> {
  const random = createRandom(seed);
  const ns = new Int32Array(scenario.runs);
  let pass = 0;
  let fail = 0;
  let inconclusive = 0;
  let byCycle = 0;
  let answers = 0;
  let minPassN = Infinity;
  const expected = weightsRecord(scenario.expected);
  const options: RatioOptions = { maxSamples: SIMULATION_BUDGET, ...scenario.options };
  let since = performance.now();
  for (let run = 0; run < scenario.runs; run++) {
    if (performance.now() - since > 200) {
      await breathe();
      since = performance.now();
    }
    const decider = factory(expected, options);
    const next = scenario.source(random);
    let decision = decider.push(next());
    while (!decision) decision = decider.push(next());
    ns[run] = decision.n;
    answers += decision.n;
    if (decision.method === "exact-cycle") byCycle++;
    if (decision.outcome === "pass") {
      pass++;
      if (decision.n < minPassN) minPassN = decision.n;
    }
    else if (decision.outcome === "fail") fail++;
    else inconclusive++;
  }
  ns.sort();
  const quantile = (q: number): number => ns[Math.min(ns.length - 1, Math.floor(q * ns.length))] ?? 0;
  const wrong = scenario.truth === "pass" ? fail : pass;
  const undecidedAfter: Record<number, number> = {};
  for (const budget of BUDGETS) {
    let above = 0;
    for (const n of ns) if (n > budget) above++;
    undecidedAfter[budget] = above / scenario.runs;
  }
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
    meanN: answers / scenario.runs,
    p50N: quantile(0.5),
    p95N: quantile(0.95),
    maxN: ns[ns.length - 1] ?? 0,
    undecidedAfter,
    answers,
    minPassN,
  };
}

/**
 * A test of "the wrong-verdict rate is at most `claim`" that passes when the rate is the claim
 * and fails when it is `factor` times the claim, each with the given error. Wrong verdicts in
 * `runs` independent runs are Binomial(runs, rate); the test passes when they are at most
 * `threshold`. The smallest `runs` (a multiple of 1000) is the one where the smallest
 * threshold with P(X > threshold | claim) ≤ falseAlarm also has
 * P(X ≤ threshold | factor·claim) ≤ miss.
 */
export interface Sizing {
  claim: number;
  factor: number;
  runs: number;
  threshold: number;
  /** P(test fails | rate = claim). */
  falseAlarm: number;
  /** P(test passes | rate = factor · claim). */
  miss: number;
}

export function sizeRateTest(claim: number, factor = 2, falseAlarm = 0.01, miss = 0.01): Sizing {
  for (let runs = 1000; runs <= 10_000_000; runs += 1000) {
    // Smallest threshold whose false-alarm probability is within bounds.
    let threshold = Math.floor(runs * claim);
    while (binomialUpperTail(threshold + 1, runs, claim) > falseAlarm) threshold++;
    const missed = binomialLowerTail(threshold, runs, factor * claim);
    if (missed <= miss) return { claim, factor, runs, threshold, falseAlarm: binomialUpperTail(threshold + 1, runs, claim), miss: missed };
  }
  throw new Error(`no run count up to 10 000 000 tells ${claim} from ${factor * claim}`);
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
