/**
 * Deterministic schedulers decided exactly: every cycle IPVS rr, IPVS wrr and Apache
 * byrequests produce for two backends with weights 1..100 and three with weights 1..20, in
 * every list order, from every phase, against expected 1:1, 2:1, 3:1, 1:3, 3:2 (and
 * 1:1:1, 2:1:1, 3:1:1, 1:1:3, 3:2:1), at the default sample budget (sampling.maxRequests).
 * Required: no sequence whose cycle has other shares ever passes, and every sequence whose
 * cycle has the expected shares passes. How it stays fast is in replay.ts; the replay is
 * checked against createRatioDecider on a sample here.
 */
import { afterAll, describe, expect, it } from "vitest";
import { labSpecSchema } from "../../src/config/schema.js";
import { createRandom, PeriodTracker, SCHEDULERS, schedulerCycle, type RatioVerdict } from "../../src/stats/index.js";
import { classify, domainWords, emptyTally, expectedRun, prefixPeriods, replayDomain, replayPeriods, runDecider, type Domain, type ExpectedRun, type ReplayTally, type Word } from "./replay.js";

const budget = labSpecSchema.shape.sampling.parse(undefined).maxRequests;
const options = { maxSamples: budget };
const two = [[1, 1], [2, 1], [3, 1], [1, 3], [3, 2]].map((w) => expectedRun(w.join(":"), w, options));
const three = [[1, 1, 1], [2, 1, 1], [3, 1, 1], [1, 1, 3], [3, 2, 1]].map((w) => expectedRun(w.join(":"), w, options));

const summaries: string[] = [];

function describeState(word: Word, phase: number, verdict: RatioVerdict | undefined): string {
  const { scheduler, weights, order } = word.example;
  const v = verdict ? ` → ${verdict.outcome} (${verdict.method}, n=${verdict.n})` : "";
  return `${scheduler} ${weights.join(":")} (list order ${order.map((i) => i + 1).join(",")}), phase ${phase} of ${word.cycle.length}${v}`;
}

async function replayAll(domain: Domain, runs: readonly ExpectedRun[]): Promise<ReplayTally[]> {
  const tallies = runs.map((run) => emptyTally(run.name));
  await replayDomain(domain, runs, tallies);
  for (const t of tallies) {
    summaries.push(
      `${domain.k} backends, expected ${t.name}: ${t.states} sequences; ${t.correct} with the expected shares, ${t.correctPassed} passed (n = ${t.correctMinN}–${t.correctMaxN}); ` +
        `${t.exactFail} failed by the exact rule within ${budget} (or earlier by the sequential test), ${t.noPass} could not pass (sequential fail or inconclusive); ` +
        `${t.deciderRuns} run through the decider; false passes ${t.falsePasses.length}, false fails ${t.falseFails.length}`,
    );
  }
  return tallies;
}

function expectExact(tallies: readonly ReplayTally[]): void {
  for (const t of tallies) {
    const passes = t.falsePasses.slice(0, 5).map((f) => describeState(f.word, f.phase, f.verdict));
    const fails = t.falseFails.slice(0, 5).map((f) => `${describeState(f.word, f.phase, f.verdict)}: ${f.why}`);
    expect(passes, `expected ${t.name}: false passes`).toEqual([]);
    expect(fails, `expected ${t.name}: false fails`).toEqual([]);
    expect(t.correct, `expected ${t.name}: some cycle has the expected shares`).toBeGreaterThan(0);
    expect(t.correctPassed).toBe(t.correct);
  }
}

describe("the replay computes what the decider computes", () => {
  it("shortest periods of every prefix, from every phase", () => {
    const random = createRandom(7);
    for (let trial = 0; trial < 300; trial++) {
      const weights = [1 + random.int(9), 1 + random.int(9), 1 + random.int(3)].slice(0, 2 + random.int(2));
      const scheduler = SCHEDULERS[random.int(SCHEDULERS.length)] ?? "lvs-wrr";
      const cycle = schedulerCycle(scheduler, weights);
      const phase = random.int(cycle.length);
      const sequence = Array.from({ length: 3 * cycle.length + 5 }, (_, i) => cycle[(phase + i) % cycle.length] ?? 0);
      const tracker = new PeriodTracker();
      const tracked = sequence.map((c) => {
        tracker.pushCode(c);
        return tracker.period;
      });
      expect(replayPeriods(cycle, phase, sequence.length), `${scheduler} ${weights.join(":")} phase ${phase}`).toEqual(prefixPeriods(sequence));
      expect(tracked).toEqual(prefixPeriods(sequence));
    }
  });

  it("agrees with createRatioDecider on a sample of sequences", () => {
    const domain2 = domainWords(2, 30, SCHEDULERS);
    const domain3 = domainWords(3, 8, SCHEDULERS);
    const random = createRandom(11);
    let compared = 0;
    for (const [domain, runs] of [
      [domain2, two],
      [domain3, three],
    ] as const) {
      for (let trial = 0; trial < 400; trial++) {
        const word = domain.words[random.int(domain.words.length)];
        const run = runs[random.int(runs.length)];
        if (!word || !run) continue;
        const phase = random.int(word.cycle.length);
        const { cls, decided } = classify(word, phase, run);
        const verdict = runDecider(word.cycle, phase, run);
        const where = `${describeState(word, phase, verdict)}, expected ${run.name}, replay ${cls} ${JSON.stringify(decided)}`;
        compared++;
        if (cls === "exact-fail") {
          expect(verdict.outcome, where).toBe("fail");
          if (verdict.method === "exact-cycle") expect(verdict.n, where).toBe(decided.exactN);
          else expect(verdict.n, where).toBeLessThan(decided.exactN ?? 0);
        } else if (cls === "no-pass") {
          expect(verdict.outcome, where).not.toBe("pass");
          expect(verdict.method, where).toBe("sprt");
        } else if (decided.exactPass) {
          // The exact rule passes at exactN unless the sequential test failed it before.
          if (verdict.method === "exact-cycle") expect(verdict.n, where).toBe(decided.exactN);
          else expect(verdict.n, where).toBeLessThan(decided.exactN ?? 0);
        }
      }
    }
    expect(compared).toBe(800);
  });
});

describe("deterministic schedulers decided exactly (every weight vector, every phase)", () => {
  it(`two backends, weights 1..100, budget ${budget}`, async () => {
    const domain = domainWords(2, 100, SCHEDULERS);
    expect(domain.vectors).toBe(10_000);
    summaries.push(`2 backends: ${domain.vectors} weight vectors × ${SCHEDULERS.length} schedulers × 2 list orders, ${domain.words.length} distinct cycles, ${domain.states} (cycle, phase) sequences`);
    expectExact(await replayAll(domain, two));
  });

  it(`three backends, weights 1..20, budget ${budget}`, async () => {
    const domain = domainWords(3, 20, SCHEDULERS);
    expect(domain.vectors).toBe(8_000);
    summaries.push(`3 backends: ${domain.vectors} weight vectors × ${SCHEDULERS.length} schedulers × 6 list orders, ${domain.words.length} distinct cycles, ${domain.states} (cycle, phase) sequences`);
    expectExact(await replayAll(domain, three));
  });

  it("would catch the old rule: believing cycles of up to 8 requests only, some wrong cycles pass", async () => {
    const domain = domainWords(2, 20, SCHEDULERS);
    const runs = [expectedRun("1:1", [1, 1], { maxSamples: budget, maxCycle: 8 })];
    const tallies = runs.map((run) => emptyTally(run.name));
    await replayDomain(domain, runs, tallies);
    const falsePasses = tallies[0]?.falsePasses ?? [];
    expect(falsePasses.length).toBeGreaterThan(0);
    // e.g. wrr 19:20 alternates for 38 requests and passes as 1:1 from the phase that starts there.
    expect(falsePasses.some((f) => f.word.counts[0] !== f.word.counts[1])).toBe(true);
  });

  it("the cases that passed before: wrr 14:39 as 1:1, deterministic 8:3 and 11:4 as 3:1 at 2000 requests", () => {
    const cases: [number[], number[], number][] = [
      [[14, 39], [1, 1], budget],
      [[8, 3], [3, 1], 2000],
      [[11, 4], [3, 1], 2000],
    ];
    for (const [weights, expected, maxSamples] of cases) {
      const run = expectedRun(expected.join(":"), expected, { maxSamples });
      for (const scheduler of ["lvs-wrr", "apache-byrequests"] as const) {
        const cycle = schedulerCycle(scheduler, weights);
        for (let phase = 0; phase < cycle.length; phase++) {
          const verdict = runDecider(cycle, phase, run);
          expect(verdict.outcome, `${scheduler} ${weights.join(":")} phase ${phase} expected ${run.name}`).toBe("fail");
        }
      }
    }
  });
});

afterAll(() => {
  console.log(summaries.join("\n"));
});
