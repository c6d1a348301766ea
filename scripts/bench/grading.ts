/**
 * Grades of the reference labs as the bench runs them: the same gradeLab a teacher's run uses,
 * with no reporters (printing is not what is measured).
 */
import { ALL_CHECKS, RUBRIC } from "../../checks/index.js";
import { loadSpec, type LabSpec } from "../../src/config/index.js";
import { gradeLab } from "../../src/runner/grade.js";
import { setTimeout as sleep } from "node:timers/promises";
import { APACHE_DEFAULT_RETRY_MS } from "../../src/runner/rejoin.js";
import type { Part, RunResult } from "../../src/runner/types.js";

/** Checks that hold the VIP's lock: their recorded start includes the wait for it. */
export const VIP_CHECK_IDS: ReadonlySet<string> = new Set(ALL_CHECKS.filter((c) => c.usesVip).map((c) => c.id));

export interface GradeRun {
  part: Part;
  disruptive: boolean;
  /** The baseline: every check strictly one after another. */
  sequential?: boolean;
  journalDir: string;
}

export async function loadLabSpec(specPath: string): Promise<LabSpec> {
  const loaded = await loadSpec(specPath);
  if (!loaded.ok) throw new Error(`the reference lab's spec ${specPath} does not load: ${JSON.stringify(loaded.problems)}`);
  return loaded.spec;
}

export function gradeOnce(spec: LabSpec, run: GradeRun, specPath?: string): Promise<RunResult> {
  return gradeLab(spec, {
    rubric: RUBRIC,
    lang: "en",
    part: run.part,
    disruptive: run.disruptive,
    long: false,
    interactive: false,
    acceptNewHostKeys: false,
    journalDir: run.journalDir,
    ...(specPath ? { specPath } : {}),
    ...(run.sequential ? { sequential: true } : {}),
  });
}

/**
 * Several labs graded at once in one process. `hagrade batch` (src/batch) is the product's way
 * to do this; until it is wired here, the bench uses the same gradeLab side by side.
 */
export function gradeLabsConcurrently(specs: readonly LabSpec[], run: GradeRun): Promise<RunResult[]> {
  return Promise.all(specs.map((spec) => gradeOnce(spec, run)));
}

/** A grade the bench can trust: every check it ran passed (a broken lab would time something else). */
export function gradeProblems(result: RunResult): string[] {
  return result.checks
    .filter((c) => c.outcome !== "pass" && !(c.outcome === "skipped" && c.maxPoints === 0))
    .map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`);
}

/**
 * After a Part 2 failover Apache keeps the stopped server out for its `retry` (60 s); the next
 * grade of the lab would wait for it (src/runner/rejoin.ts) and time that wait, or, with another
 * journal folder, see one server. The bench waits it out between disruptive grades, outside the
 * figures (3 s past it: the stop came before the grade's end, and Apache takes the server back on
 * the next request).
 */
export async function waitOutApacheRetry(log: (text: string) => void): Promise<void> {
  log(`waiting out Apache's retry (${APACHE_DEFAULT_RETRY_MS / 1000} s) so that the labs serve from both servers again…`);
  await sleep(APACHE_DEFAULT_RETRY_MS + 3_000);
}
