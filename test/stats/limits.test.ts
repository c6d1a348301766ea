/**
 * What the sequential test cannot do within a budget, exactly: the fewest answers with which
 * ANY sequence makes it pass (53 for 1:1, 121 for 3:1; on top of that a pass waits until the
 * answers stop repeating a cycle of up to 199 requests, decide.ts). These sequences are
 * contrived (a burst of one backend rejects one alternative, which then stays rejected, then
 * a burst of the other): a random 3:1 lab is measured never to pass within 400 requests
 * (error-rates-correct.test.ts), but no sequence length rules it out below 121.
 *
 * Search: for two backends the test's state after n answers is the count of backend 1 and
 * the set of alternatives already rejected (a rejected alternative is frozen; an open one has
 * LLR = Σ counts·ln(w/a), which depends on the counts only). Breadth-first over n, keeping
 * for each count the largest rejected sets (more rejected is never worse: fewer alternatives
 * can still make it fail), until one state has every alternative rejected. The witness
 * sequence is then fed to the real decider, which must pass at exactly that n.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createRatioDecider, decisionPlan, Sprt, type Weights } from "../../src/stats/index.js";

interface Minimum {
  n: number;
  /** A sequence of that length that passes (backend indexes). */
  witness: number[];
}

function minimumPassLength(weights: [number, number], limit = 5000): Minimum | undefined {
  const expected: Weights = { "1": weights[0], "2": weights[1] };
  const plan = decisionPlan(expected);
  const { pass, fail } = new Sprt(plan.table, plan.sprtAlpha, plan.sprtBeta, plan.alternatives).boundaries;
  const alternatives = plan.alternatives;
  const all = (1 << alternatives.length) - 1;
  const inc = alternatives.map((alt) => plan.table.shares.map((share, i) => ((alt.shares[i] ?? 0) === 0 ? Infinity : Math.log(share / (alt.shares[i] ?? 0)))));
  const llr = (a: number, c1: number, c2: number): number => {
    const [i1 = 0, i2 = 0] = inc[a] ?? [];
    return (c1 > 0 ? c1 * i1 : 0) + (c2 > 0 ? c2 * i2 : 0);
  };
  // Level n: states keyed by c1 → rejected masks; parents to rebuild the witness.
  type State = { c1: number; mask: number; parent: State | undefined; label: number };
  let level: State[] = [{ c1: 0, mask: 0, parent: undefined, label: -1 }];
  for (let n = 1; n <= limit; n++) {
    const next = new Map<number, State[]>();
    for (const state of level) {
      for (const label of [0, 1]) {
        const c1 = state.c1 + (label === 0 ? 1 : 0);
        const c2 = n - c1;
        let mask = state.mask;
        let failed = false;
        for (let a = 0; a < alternatives.length; a++) {
          if (mask & (1 << a)) continue;
          const value = llr(a, c1, c2);
          if (value >= pass) mask |= 1 << a;
          else if (value <= fail) {
            failed = true;
            break;
          }
        }
        if (failed) continue;
        const candidate: State = { c1, mask, parent: state, label };
        if (mask === all) {
          const witness: number[] = [];
          for (let s: State | undefined = candidate; s && s.label >= 0; s = s.parent) witness.push(s.label);
          return { n, witness: witness.reverse() };
        }
        const kept = next.get(c1) ?? [];
        if (kept.some((k) => (k.mask & mask) === mask)) continue;
        next.set(c1, [...kept.filter((k) => (k.mask & mask) !== k.mask), candidate]);
      }
    }
    level = [...next.values()].flat();
  }
  return undefined;
}

const lines: string[] = [];

describe("the fewest answers with which the sequential test can pass", () => {
  for (const weights of [[1, 1], [2, 1], [3, 1], [3, 2]] as [number, number][]) {
    it(`expected ${weights.join(":")}`, () => {
      const minimum = minimumPassLength(weights);
      expect(minimum).toBeDefined();
      if (!minimum) return;
      // The real decider, with exact cycles off (they would decide a repeating witness), passes
      // the witness at exactly that length, and not before.
      const expected: Weights = { "1": weights[0], "2": weights[1] };
      const decider = createRatioDecider(expected, { exactCycle: false, maxSamples: minimum.n + 10 });
      let decided: number | undefined;
      for (const [i, label] of minimum.witness.entries()) {
        const step = decider.pushIndex(label);
        if (step.state === "decided") {
          expect(step.decision.outcome).toBe("pass");
          decided = i + 1;
          break;
        }
      }
      expect(decided).toBe(minimum.n);
      lines.push(`expected ${weights.join(":")}: no sequence of fewer than ${minimum.n} answers passes the sequential test`);
    });
  }
});

afterAll(() => console.log(lines.join("\n")));
