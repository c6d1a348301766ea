/**
 * Grades the labs named on the command line concurrently, alone in its own process, and prints
 * one JSON line: the wall time of the batch and the process's peak RSS, so that memory is
 * measured clean of the bench's own labs, results and earlier grades.
 * Usage: tsx scripts/bench/grade-child.ts '{"specPaths":[...],"journalDir":"...","part":"proxy","via":"batch"}'
 */
import type { Part } from "../../src/runner/types.js";
import { gradeSpecsAsBatch } from "./batch.js";
import { gradeLabsConcurrently, gradeProblems, loadLabSpec } from "./grading.js";

export interface ChildRequest {
  specPaths: string[];
  journalDir: string;
  part: Part;
  /** batch: `hagrade batch`'s gradeBatch (reports written, per-lab budgets); gradeLab: bare gradeLab side by side. */
  via?: "batch" | "gradeLab";
  /** Grade with --disruptive (batch only). */
  disruptive?: boolean;
  /** Batch only: every lab at once (default), or `hagrade batch`'s default concurrency. */
  concurrency?: "all" | "default";
}

export interface ChildReport {
  labs: number;
  /** Labs graded at once. */
  concurrency: number;
  wallMs: number;
  /** Peak resident set of this process, KiB (getrusage ru_maxrss). */
  maxRssKiB: number;
  /** Resident set before the first grade began (runtime, TypeScript loader, modules), after a full GC, KiB. */
  rssBeforeKiB: number;
  /** Highest resident set sampled while the labs were graded, KiB: the grading's own peak. */
  gradingPeakRssKiB: number;
  problems: string[];
}

async function main(): Promise<void> {
  const request = JSON.parse(process.argv[2] ?? "{}") as ChildRequest;
  const specs = request.via === "batch" ? [] : await Promise.all(request.specPaths.map(loadLabSpec));
  // Loading modules leaves garbage a grade does not need: collected first (the child runs with --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  const rssBeforeKiB = Math.round(process.memoryUsage().rss / 1024);
  let peak = rssBeforeKiB;
  // ru_maxrss covers the whole process life (startup included); sampling shows the grading itself.
  const sampler = setInterval(() => (peak = Math.max(peak, Math.round(process.memoryUsage().rss / 1024))), 10);
  const started = performance.now();
  let labs: number;
  let concurrency = request.specPaths.length;
  let problems: string[];
  if (request.via === "batch") {
    ({ labs, concurrency, problems } = await gradeSpecsAsBatch(request.specPaths, request.part, request.journalDir, {
      disruptive: Boolean(request.disruptive),
      concurrency: request.concurrency ?? "all",
    }));
  } else {
    const results = await gradeLabsConcurrently(specs, { part: request.part, disruptive: false, journalDir: request.journalDir });
    labs = results.length;
    problems = results.flatMap((r) => gradeProblems(r).map((p) => `${r.lab}: ${p}`));
  }
  const wallMs = Math.round(performance.now() - started);
  clearInterval(sampler);
  peak = Math.max(peak, Math.round(process.memoryUsage().rss / 1024));
  const report: ChildReport = {
    labs,
    concurrency,
    wallMs,
    maxRssKiB: process.resourceUsage().maxRSS,
    rssBeforeKiB,
    gradingPeakRssKiB: peak,
    problems,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`grade-child: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
