/**
 * The bench's pure pieces on hand-made grades: medians, phases (the VIP lock's wait left out,
 * the failover split by its events), the fixed-sample comparison, targets that name what holds
 * them back, the options, and the printed report. The labs themselves are `npm run bench`'s.
 */
import { describe, expect, it } from "vitest";
import {
  checkIntervals,
  decisionComparisons,
  failoverPhases,
  fixedSampleFor,
  median,
  medianPhases,
  phasesOf,
  unionLength,
  type PhaseFigure,
} from "../../scripts/bench/figures.js";
import { parseBenchArgs } from "../../scripts/bench/options.js";
import { randomWorkload } from "../../scripts/bench/random-workload.js";
import { explainPhase, formatTable, requestTarget, timeTarget } from "../../scripts/bench/report.js";
import { renderReport, targetsOf, type BenchReport } from "../../scripts/bench/summary.js";
import type { CheckResult, Evidence, RunResult } from "../../src/runner/types.js";

const T0 = Date.parse("2026-01-01T00:00:00.000Z");

function check(id: string, startMs: number, durationMs: number, traffic: { httpRequests: number; sshCommands: number }, evidence: Evidence[] = []): CheckResult {
  return {
    id,
    part: id.startsWith("net.") ? "net" : "proxy",
    title: { es: id, en: id },
    outcome: "pass",
    points: 1,
    maxPoints: 1,
    message: { es: "ok", en: "ok" },
    evidence,
    startedAt: new Date(T0 + startMs).toISOString(),
    durationMs,
    traffic,
  };
}

/** Apache byrequests 3:1 as a lone client sees it: 1,1,2,1 over and over. */
const byrequests31 = (n: number): string[] => Array.from({ length: n }, (_, i) => (i % 4 === 2 ? "webserver2" : "webserver1"));

function ratioSample(n: number, expectedRatio: string, method = "exact-cycle"): Evidence {
  const cycle = method === "exact-cycle" ? { cycle: { period: 4 }, maxCycle: 199 } : {};
  return {
    kind: "sample",
    name: "keep-alive",
    sequence: byrequests31(n),
    ratio: { n, method, alpha: 0.001, beta: 0.001, expectedRatio, expectedShares: { webserver1: 0.75, webserver2: 0.25 }, ...cycle },
  } as unknown as Evidence; // only what the bench reads
}

function grade(checks: CheckResult[], durationMs: number, preflightMs = 50): RunResult {
  return {
    schemaVersion: 1,
    tool: { name: "hagrade", version: "0" },
    lab: "hg1-correct",
    part: "proxy",
    partSource: "spec",
    lang: "en",
    startedAt: new Date(T0).toISOString(),
    durationMs,
    score: checks.length,
    maxScore: checks.length,
    counts: { pass: checks.length, fail: 0, inconclusive: 0, error: 0, skipped: 0 },
    traffic: {
      httpRequests: checks.reduce((a, c) => a + (c.traffic?.httpRequests ?? 0), 0),
      sshCommands: checks.reduce((a, c) => a + (c.traffic?.sshCommands ?? 0), 0),
    },
    preflightMs,
    notes: [],
    checks,
  };
}

const VIP = new Set(["net.vip-http", "proxy.round-robin", "proxy.sticky"]);

/** A grade as the runner records it: VIP checks queued behind one lock, SSH checks alongside. */
function sampleGrade(): RunResult {
  return grade(
    [
      check("net.vip-http", 0, 40, { httpRequests: 1, sshCommands: 0 }),
      check("net.nat", 40, 500, { httpRequests: 0, sshCommands: 4 }, [
        { kind: "ssh-commands", commands: [{ durationMs: 100 }, { durationMs: 140 }, { durationMs: 120 }, { durationMs: 140 }] } as unknown as Evidence,
      ]),
      check("net.ip-forward", 40, 200, { httpRequests: 0, sshCommands: 1 }),
      // Started waiting at 40 ms; the lock was free from the start.
      check("proxy.round-robin", 40, 300, { httpRequests: 202, sshCommands: 0 }, [ratioSample(202, "3:1")]),
      // Also started waiting at 40 ms, but ran only once round-robin released the lock at 340 ms.
      check("proxy.sticky", 40, 600, { httpRequests: 47, sshCommands: 0 }),
    ],
    700,
  );
}

describe("median", () => {
  it("is the middle value, the mean of the middle two, or undefined", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeUndefined();
    expect(median([Number.NaN, 2])).toBe(2);
  });
});

describe("phases of a grade", () => {
  it("leaves a VIP check's wait for the lock out of its own time", () => {
    const intervals = checkIntervals(sampleGrade(), VIP);
    expect(intervals.get("proxy.round-robin")).toEqual({ start: 40, end: 340 });
    expect(intervals.get("proxy.sticky")).toEqual({ start: 340, end: 640 });
    // Not a VIP check: its recorded time is its own.
    expect(intervals.get("net.nat")).toEqual({ start: 40, end: 540 });
  });

  it("counts side-by-side checks once in a phase's wall time", () => {
    expect(unionLength([{ start: 0, end: 100 }, { start: 50, end: 150 }, { start: 200, end: 210 }])).toBe(160);
    const phases = phasesOf(sampleGrade(), VIP);
    const byName = Object.fromEntries(phases.map((p) => [p.phase, p]));
    expect(byName["SSH inspection"]).toMatchObject({ wallMs: 500, sshCommands: 5, httpRequests: 0, sshCommandMs: 125 });
    expect(byName["preflight"]).toMatchObject({ wallMs: 50, httpRequests: 1 });
    expect(byName["proxy.round-robin"]).toMatchObject({ kind: "statistical", wallMs: 300, httpRequests: 202 });
    expect(byName["stickiness"]).toMatchObject({ wallMs: 300, httpRequests: 47 });
    expect(byName["whole grade"]).toMatchObject({ wallMs: 700, httpRequests: 250, sshCommands: 5 });
  });

  it("splits a failover by its events and its restore report", () => {
    const timeline = [0, 100, 200, 1200, 1300, 1400, 1500, 3000, 9000].map((t) => ({ t, label: "webserver2", client: "c" }));
    // One SSH command of its own (the victim's page); the journal's commands are in the restore report.
    const failover = check("proxy.failover", 0, 10_000, { httpRequests: timeline.length, sshCommands: 1 }, [
      {
        kind: "failover",
        detectMs: 150,
        rejoinMs: 6000,
        events: [
          { t: 100, what: "stop" },
          { t: 110, what: "stopped" },
          { t: 1300, what: "restoring" },
          { t: 2000, what: "started (verified)" },
        ],
        timeline,
      } as unknown as Evidence,
      { kind: "restore", before: { command: "b" }, change: { command: "stop" }, undo: [{ command: "start" }], verify: [{ command: "v" }, { command: "v" }] } as unknown as Evidence,
    ]);
    const [detection, restore, rejoin] = failoverPhases(failover);
    expect(detection).toMatchObject({ phase: "failover: detection", wallMs: 1200, httpRequests: 3, sshCommands: 1 });
    expect(restore).toMatchObject({ phase: "failover: restore", wallMs: 700, httpRequests: 3, sshCommands: 3 });
    // The mark at 9000 ms came after the victim was back (2000 + 6000): not part of the wait.
    expect(rejoin).toMatchObject({ phase: "failover: rejoin wait", wallMs: 6000, httpRequests: 1, sshCommands: 0 });
    const whole = phasesOf(grade([failover], 10_000), VIP).find((p) => p.phase === "whole grade");
    // 1 counted by the run + before, stop, start and two verifies from the journal.
    expect(whole?.sshCommands).toBe(6);
  });

  it("takes the median of each figure per phase over runs", () => {
    const run = (wallMs: number, httpRequests: number): PhaseFigure[] => [{ phase: "stickiness", kind: "stickiness", wallMs, httpRequests, sshCommands: 0 }];
    expect(medianPhases([run(300, 47), run(900, 47), run(400, 49)])).toEqual([{ phase: "stickiness", kind: "stickiness", wallMs: 400, httpRequests: 47, sshCommands: 0 }]);
  });
});

describe("baseline (a): each decision beside its yardstick", () => {
  it("the fixed-sample n docs/statistics.md publishes for the lab's ratios", () => {
    expect(fixedSampleFor({ webserver1: 1, webserver2: 1 }, 0.001, 0.001)).toBe(353);
    expect(fixedSampleFor({ webserver1: 3, webserver2: 1 }, 0.001, 0.001)).toBe(2664);
    expect(fixedSampleFor({ a: 1, b: 1, c: 1 }, 0.001, 0.001)).toBeUndefined();
  });

  it("an exact-cycle decision beside the fewest answers that identify the cycle", () => {
    const [c, ...rest] = decisionComparisons(sampleGrade(), VIP);
    expect(rest).toEqual([]);
    // 1,1,2,1 from its first phase: a cycle of 199 fits the first 201 answers with other shares.
    expect(c).toMatchObject({ check: "proxy.round-robin", method: "exact-cycle", baseline: "identify-cycle", sequentialN: 202, baselineN: 202, fixedN: 2664, sequentialMs: 300, baselineMs: 300 });
    // Among the real schedulers' cycles (two backends weighted up to 100) fewer answers do.
    expect(c!.identifySchedulersN).toBeGreaterThan(100);
    expect(c!.identifySchedulersN).toBeLessThan(202);
    expect(c!.requestRatio).toBe(1);
    expect(requestTarget(c!)).toMatchObject({ met: true, name: "proxy.round-robin (keep-alive) requests ≤ 1.05× the fewest that identify the cycle" });
  });

  it("a sequential-test decision beside the fixed-sample test, at the check's own rate", () => {
    const slow = grade([check("proxy.round-robin", 0, 9000, { httpRequests: 1800, sshCommands: 0 }, [ratioSample(1800, "3:1", "sprt")])], 9000);
    const c = decisionComparisons(slow, VIP)[0]!;
    expect(c).toMatchObject({ baseline: "fixed-sample", baselineN: 2664, sequentialMs: 9000 });
    expect(c.requestRatio).toBeCloseTo(1800 / 2664, 6);
    // 1800 requests took 9 s: 2664 take 2664·9000/1800 ms.
    expect(c.baselineMs).toBe(Math.round((2664 * 9000) / 1800));
    const target = requestTarget(c);
    expect(target.met).toBe(false);
    expect(target.heldBackBy).toBe("proxy.round-robin");
    expect(target.why).toMatch(/sequential test/);
  });

  it("the sequential test beside the fixed-sample test on simulated random labs", () => {
    const figures = randomWorkload(200);
    expect(figures.map((f) => [f.expected, f.truth, f.fixedN])).toEqual([
      ["1:1", "1:1", 353],
      ["2:1", "2:1", 1131],
      ["3:1", "3:1", 2664],
      ["3:1", "2:1", 2664],
      ["3:1", "4:1", 2664],
    ]);
    for (const f of figures) {
      expect(f.right / f.runs, `${f.truth} expected ${f.expected}`).toBeGreaterThanOrEqual(0.98);
      expect(f.ratio, `${f.truth} expected ${f.expected}`).toBeLessThan(1);
    }
    // A random 3:1 lab is not decided within the default budget of 400.
    expect(figures[2]?.undecidedAt400).toBe(1);
  });
});

describe("targets", () => {
  const phases: PhaseFigure[] = [
    { phase: "SSH inspection", kind: "ssh", wallMs: 2000, httpRequests: 0, sshCommands: 12, sshCommandMs: 160 },
    { phase: "proxy.round-robin", kind: "statistical", wallMs: 4100, httpRequests: 800, sshCommands: 0 },
    { phase: "whole grade", kind: "grade", wallMs: 6200, httpRequests: 850, sshCommands: 12 },
  ];

  it("names the slowest phase and the rate bound when requests make it slow", () => {
    const t = timeTarget("Part 2 grade", "whole grade", 5000, 6200, phases, 200);
    expect(t).toMatchObject({ met: false, heldBackBy: "proxy.round-robin" });
    expect(t.why).toMatch(/800 requests under the spec's rate bound of 200\/s take at least 4000 ms/);
    expect(timeTarget("Part 2 grade", "whole grade", 7000, 6200, phases, 200)).toMatchObject({ met: true });
    expect(timeTarget("x", "x", 5000, 6200, phases, 200, ["proxy.round-robin"]).heldBackBy).toBe("SSH inspection");
  });

  it("explains an SSH-bound phase by its commands", () => {
    expect(explainPhase(phases[0]!, 200)).toBe("12 SSH commands, 160 ms each on average");
  });
});

describe("options", () => {
  it("defaults to the full bench and --quick to the short Part 2 one", () => {
    expect(parseBenchArgs([])).toMatchObject({ ok: true, options: { quick: false, runs: 5, disruptiveRuns: 3, part: "all", out: "reports/bench", classLabs: 30 } });
    expect(parseBenchArgs(["--quick"])).toMatchObject({ ok: true, options: { quick: true, runs: 3, part: "proxy", classLabs: 0 } });
    expect(parseBenchArgs(["--runs=2", "--part", "lvs", "--out", "/tmp/x"])).toMatchObject({ ok: true, options: { runs: 2, disruptiveRuns: 2, part: "lvs", out: "/tmp/x", classLabs: 0 } });
    expect(parseBenchArgs(["--part", "proxy", "--class", "10"])).toMatchObject({ ok: true, options: { part: "proxy", classLabs: 10 } });
    expect(parseBenchArgs(["--quick", "--class=3"])).toMatchObject({ ok: true, options: { quick: true, classLabs: 3 } });
    expect(parseBenchArgs(["--class", "0"])).toMatchObject({ ok: true, options: { part: "all", classLabs: 0 } });
  });

  it("names the option and the fix on bad input", () => {
    expect(parseBenchArgs(["--runs", "0"])).toEqual({ ok: false, message: expect.stringMatching(/^--runs: expected a whole number from 1 to 50, got '0'/) });
    expect(parseBenchArgs(["--part", "vm"])).toEqual({ ok: false, message: expect.stringMatching(/^--part: expected proxy, lvs or all/) });
    expect(parseBenchArgs(["--quick", "--part", "lvs"])).toEqual({ ok: false, message: expect.stringMatching(/--quick runs no VM/) });
    expect(parseBenchArgs(["--class", "-1"])).toEqual({ ok: false, message: expect.stringMatching(/^--class: expected a number of labs from 0 to 100, got '-1'/) });
    expect(parseBenchArgs(["--class"])).toEqual({ ok: false, message: expect.stringMatching(/^--class: expected a number of labs/) });
    expect(parseBenchArgs(["--part", "lvs", "--class", "5"])).toEqual({ ok: false, message: expect.stringMatching(/--class grades Part 2/) });
    expect(parseBenchArgs(["--fast"])).toEqual({ ok: false, message: expect.stringMatching(/unknown option '--fast'/) });
  });
});

describe("the printed report", () => {
  it("aligns columns and right-aligns figures", () => {
    expect(formatTable(["phase", "wall"], [["preflight", "40 ms"], ["whole grade", "1.29 s"]]).split("\n")).toEqual([
      "phase          wall",
      "-----------  ------",
      "preflight     40 ms",
      "whole grade  1.29 s",
    ]);
  });

  it("puts each phase beside its baseline and says which target is missed and why", () => {
    const slowGrade = grade(
      [check("net.vip-http", 0, 40, { httpRequests: 1, sshCommands: 0 }), check("proxy.round-robin", 40, 5900, { httpRequests: 1200, sshCommands: 0 }, [ratioSample(1200, "3:1", "sprt")])],
      6000,
    );
    const phases = phasesOf(slowGrade, VIP);
    const report: BenchReport = {
      schemaVersion: 1,
      startedAt: "",
      finishedAt: "",
      machine: { cpuModel: "Test CPU", cores: 2, memoryBytes: 2 ** 31, node: "v20", kernel: "6.1", loadAverage: [0.5, 0.4, 0.3] },
      options: { quick: true, runs: 1, disruptiveRuns: 1, part: "proxy", out: "x", loopRequests: 100, parallel: [1, 4], classLabs: 30 },
      parts: {
        proxy: {
          part: "proxy",
          lab: "hg1-correct",
          ratePerSecond: 200,
          grade: { runs: 1, wallMsRuns: [6000], phases, problems: [] },
          sequential: { runs: 1, wallMsRuns: [8000], phases, problems: [], ratio: 0.75 },
          statistics: decisionComparisons(slowGrade, VIP),
        },
      },
      parallel: [
        { k: 1, wallMsRuns: [1000], wallMs: 1000, ratioToOne: 1, maxRssKiB: 150_000, rssBeforeKiB: 100_000, gradingPeakRssKiB: 120_000 },
        { k: 4, wallMsRuns: [1500], wallMs: 1500, ratioToOne: 1.5, maxRssKiB: 160_000, rssBeforeKiB: 100_000, gradingPeakRssKiB: 140_000 },
      ],
      class: {
        labs: 30,
        concurrency: 16,
        runs: 1,
        oneLabMsRuns: [8000],
        classMsRuns: [20_000],
        oneLabMs: 8000,
        classMs: 20_000,
        ratio: 2.5,
        rssBeforeKiB: 130 * 1024,
        gradingPeakRssKiB: 260 * 1024,
        maxRssKiB: 262 * 1024,
        oneLabGradingPeakRssKiB: 170 * 1024,
        labsPeakPssKiB: 900 * 1024,
        labsRestPssKiB: 480 * 1024,
        labProcesses: 700,
        problems: [],
      },
      targets: [],
    };
    report.targets = targetsOf(report);
    expect(report.targets.map((t) => [t.name, t.met])).toEqual([
      ["Part 2 grade", false],
      ["proxy.round-robin (keep-alive) requests ≤ ½ fixed-sample", true],
      ["a class of 30 labs --disruptive ≤ 2× one lab alone", false],
    ]);
    const text = renderReport(report);
    expect(text).toContain("Test CPU, 2 cores, 2.0 GiB, Node v20, Linux 6.1, load average 0.5 0.4 0.3");
    expect(text).toMatch(/proxy\.round-robin .*fixed-sample n=2664/);
    expect(text).toMatch(/whole grade .*one after another 8\.00 s +0\.75×/);
    expect(text).toMatch(/MISSED Part 2 grade: 6\.00 s \(whole grade\) — proxy\.round-robin takes 5\.90 s: 1200 requests under the spec's rate bound of 200\/s/);
    expect(text).toMatch(/\n +4 +1\.50 s +1\.50× +137 MiB/);
    expect(text).toMatch(/\n30 labs +16 +20\.0 s +8\.00 s +2\.50× +260 MiB +130 MiB +170 MiB +900 MiB \(480 MiB at rest, 700 processes\)/);
    expect(text).toContain("MISSED a class of 30 labs --disruptive ≤ 2× one lab alone: 2.5 (20.0 s for 30 labs, 16 at once / 8.00 s for one) — 16 labs at once (hagrade batch's default on this machine): the class is graded in 2 rounds");
  });
});
