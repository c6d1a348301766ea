/**
 * k labs graded side by side the way `hagrade batch` does it (src/batch gradeBatch: one roster
 * row per lab, each with its own budget and its reports written), for the parallel figures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { defaultConcurrency, gradeBatch, type RosterEntry } from "../../src/batch/index.js";
import type { Part } from "../../src/runner/types.js";

export interface BatchRun {
  labs: number;
  /** Labs graded at once. */
  concurrency: number;
  /** Labs that were not graded, or not to full marks (the figures then time something else). */
  problems: string[];
}

export interface BatchGrade {
  disruptive?: boolean;
  /** Labs at once: all of them (default), or `hagrade batch`'s default on this machine. */
  concurrency?: "all" | "default";
}

export async function gradeSpecsAsBatch(specPaths: readonly string[], part: Part, scratchDir: string, grade: BatchGrade = {}): Promise<BatchRun> {
  const outDir = mkdtempSync(join(scratchDir, "batch-"));
  try {
    const roster: RosterEntry[] = specPaths.map((specFile, index) => ({
      index,
      row: index + 1,
      id: `bench-${index + 1}`,
      lab: `bench-${index + 1}`,
      specFile,
      overrides: {},
    }));
    const concurrency = grade.concurrency === "default" ? defaultConcurrency() : specPaths.length;
    const entries = await gradeBatch({ roster, outDir, concurrency, force: true, lang: "en", part, disruptive: Boolean(grade.disruptive) });
    return {
      labs: entries.length,
      concurrency,
      problems: entries
        .filter((e) => e.status !== "graded" || e.score !== e.maxScore)
        .map((e) => `${e.lab}: ${e.status}${e.score !== undefined ? ` ${e.score}/${e.maxScore}` : ""}${e.reason ? ` — ${e.reason.en}` : ""}`),
    };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
