/**
 * A class in about the time of one lab: n Part 2 reference labs graded with --disruptive side by
 * side the way `hagrade batch` grades a class (gradeBatch at its default concurrency on this
 * machine), beside one more lab graded with --disruptive alone, each in a fresh child process so
 * its memory is its own; runs interleaved (one lab, the class, one lab, …) so a slow spell of the
 * machine hits both alike. The labs' own memory is sampled meanwhile.
 *
 * After a failover Apache keeps the stopped server out for its `retry` (60 s): a grade of the
 * same lab within that time waits for it (src/runner/rejoin.ts, through the journal folder) or,
 * with a fresh journal folder as each batch here has, sees one server. So the lone lab is not
 * one of the class, and between runs the bench waits the retry out, outside the figures.
 */
import type { ChildReport } from "./grade-child.js";
import { median } from "./figures.js";
import { waitOutApacheRetry } from "./grading.js";
import { sampleLabMemory } from "./lab-memory.js";
import { runChild } from "./parallel.js";

export interface ClassFigure {
  labs: number;
  /** Labs graded at once: `hagrade batch`'s default on this machine (the child's own sizing). */
  concurrency: number;
  runs: number;
  oneLabMsRuns: number[];
  classMsRuns: number[];
  oneLabMs: number;
  classMs: number;
  /** Class / one lab alone: 1 is perfect parallelism, `labs` is none. */
  ratio: number;
  /** The grading process of the class: RSS after loading and a full GC, highest RSS sampled while grading, ru_maxrss (medians). */
  rssBeforeKiB: number;
  gradingPeakRssKiB: number;
  maxRssKiB: number;
  /** The same for one lab alone. */
  oneLabGradingPeakRssKiB: number;
  /** The labs' processes (Apache, sshd, the grade's commands): highest total Pss sampled while the class was graded, and at rest before. */
  labsPeakPssKiB: number;
  labsRestPssKiB: number;
  labProcesses: number;
  problems: string[];
}

/** A whole disruptive class with reports written: well within gradeBatch's 10-minute budget a lab. */
const CHILD_TIMEOUT_MS = 15 * 60_000;

/** `specPaths[0]` is the lab graded alone, the rest the class. */
export async function classBench(
  specPaths: readonly string[],
  labIndexes: readonly number[],
  runs: number,
  journalDir: string,
  log: (text: string) => void,
): Promise<ClassFigure> {
  const one: ChildReport[] = [];
  const all: ChildReport[] = [];
  const problems: string[] = [];
  const [solo, ...classSpecs] = specPaths;
  if (!solo || classSpecs.length === 0) throw new Error("the class figure needs a lab to grade alone and at least one for the class");
  const classIndexes = labIndexes.slice(1);
  const rest = sampleLabMemory(classIndexes).stop();
  let labsPeak = rest;
  for (let i = 1; i <= runs; i++) {
    if (i > 1) await waitOutApacheRetry(log);
    const alone = await runChild({ specPaths: [solo], journalDir, part: "proxy", via: "batch", disruptive: true }, CHILD_TIMEOUT_MS);
    one.push(alone);
    log(`one lab --disruptive alone ${i}/${runs}: ${(alone.wallMs / 1000).toFixed(2)} s`);
    // Sampling /proc for some 700 processes takes ~0.1 s of a core: every 5 s keeps it out of the figure.
    const sampler = sampleLabMemory(classIndexes, 5_000);
    let report: ChildReport;
    try {
      report = await runChild(
        { specPaths: classSpecs, journalDir, part: "proxy", via: "batch", disruptive: true, concurrency: "default" },
        CHILD_TIMEOUT_MS,
      );
    } finally {
      const peak = sampler.stop();
      if (peak.pssKiB > labsPeak.pssKiB) labsPeak = peak;
    }
    all.push(report);
    log(`${classSpecs.length} labs --disruptive, ${report.concurrency} at once ${i}/${runs}: ${(report.wallMs / 1000).toFixed(2)} s`);
    problems.push(...alone.problems, ...report.problems);
  }
  const m = (reports: ChildReport[], get: (r: ChildReport) => number) => Math.round(median(reports.map(get)) ?? 0);
  const oneLabMs = m(one, (r) => r.wallMs);
  const classMs = m(all, (r) => r.wallMs);
  return {
    labs: classSpecs.length,
    concurrency: all[0]?.concurrency ?? 0,
    runs,
    oneLabMsRuns: one.map((r) => r.wallMs),
    classMsRuns: all.map((r) => r.wallMs),
    oneLabMs,
    classMs,
    ratio: classMs / oneLabMs,
    rssBeforeKiB: m(all, (r) => r.rssBeforeKiB),
    gradingPeakRssKiB: m(all, (r) => r.gradingPeakRssKiB),
    maxRssKiB: m(all, (r) => r.maxRssKiB),
    oneLabGradingPeakRssKiB: m(one, (r) => r.gradingPeakRssKiB),
    labsPeakPssKiB: labsPeak.pssKiB,
    labsRestPssKiB: rest.pssKiB,
    labProcesses: labsPeak.processes,
    problems: [...new Set(problems)],
  };
}
