/**
 * k labs graded side by side against one alone (k = 1, 4, 8), and the peak RSS of one grade and
 * of a batch: each batch runs in a fresh child process so its memory is its own, and is graded
 * as `hagrade batch` grades a class (gradeBatch: reports written, per-lab budgets).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Part } from "../../src/runner/types.js";
import type { ChildReport, ChildRequest } from "./grade-child.js";
import { median } from "./figures.js";

const childScript = fileURLToPath(new URL("./grade-child.ts", import.meta.url));
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

export interface ParallelFigure {
  k: number;
  wallMsRuns: number[];
  wallMs: number;
  /** Wall time of k labs over one lab alone: 1 is perfect parallelism, k is none. */
  ratioToOne: number;
  /** Peak RSS of the child process (ru_maxrss: startup included). */
  maxRssKiB: number;
  /** RSS before grading, after a full GC: the runtime and hagrade's modules. */
  rssBeforeKiB: number;
  /** Highest RSS sampled while grading: what the k grades themselves hold at once. */
  gradingPeakRssKiB: number;
}

export function runChild(request: ChildRequest, timeoutMs: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--expose-gc", "--import", "tsx", childScript, JSON.stringify(request)],
      { cwd: repoRoot, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: process.env },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        if (error || !line.startsWith("{")) return reject(new Error(`a bench grade child failed: ${stderr.trim() || error?.message || "no report"}`));
        resolve(JSON.parse(line) as ChildReport);
      },
    );
  });
}

/**
 * For each k, `runs` children grading the first k of `specPaths` concurrently; the k's are
 * interleaved run by run so a slow spell of the machine hits them alike.
 */
export async function parallelBench(specPaths: readonly string[], ks: readonly number[], runs: number, part: Part, journalDir: string): Promise<{ figures: ParallelFigure[]; problems: string[] }> {
  const walls = new Map<number, number[]>(ks.map((k) => [k, []]));
  const rss = new Map<number, number[]>(ks.map((k) => [k, []]));
  const before = new Map<number, number[]>(ks.map((k) => [k, []]));
  const grading = new Map<number, number[]>(ks.map((k) => [k, []]));
  const problems: string[] = [];
  for (let i = 0; i < runs; i++) {
    for (const k of ks) {
      const report = await runChild({ specPaths: specPaths.slice(0, k), journalDir, part, via: "batch" }, 300_000);
      walls.get(k)!.push(report.wallMs);
      rss.get(k)!.push(report.maxRssKiB);
      before.get(k)!.push(report.rssBeforeKiB);
      grading.get(k)!.push(report.gradingPeakRssKiB);
      problems.push(...report.problems);
    }
  }
  const one = median(walls.get(ks[0] ?? 1) ?? []) ?? Number.NaN;
  const figures = ks.map((k) => {
    const wallMs = Math.round(median(walls.get(k)!) ?? 0);
    return {
      k,
      wallMsRuns: walls.get(k)!,
      wallMs,
      ratioToOne: wallMs / one,
      maxRssKiB: Math.round(median(rss.get(k)!) ?? 0),
      rssBeforeKiB: Math.round(median(before.get(k)!) ?? 0),
      gradingPeakRssKiB: Math.round(median(grading.get(k)!) ?? 0),
    };
  });
  return { figures, problems: [...new Set(problems)] };
}
