import type { RunResult } from "../model/index.js";
import { UsageError } from "./args.js";

/** Exit codes: a contract for CI jobs and batch scripts. */
export const EXIT = { ok: 0, studentFault: 1, badInput: 2, infrastructure: 3 } as const;

/** The exit codes as `--help` states them. */
export const EXIT_CODES_HELP = `Exit codes: 0 graded and score >= min-score, 1 the lab has faults, 2 bad input,
3 the grader could not reach what it must (infrastructure error).`;

/** The exit code of a graded result: 3 on any grader error, else 0 at or above the minimum score, else 1. */
export function exitCodeFor(result: RunResult, minScore: number): number {
  if (result.counts.error > 0) return EXIT.infrastructure;
  return result.score + 1e-9 >= minScore ? EXIT.ok : EXIT.studentFault;
}

/** `--min-score N`: a number ≥ 0, or undefined when not given. */
export function parseMinScore(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new UsageError(`--min-score must be a number ≥ 0 (got "${value}")`);
  return n;
}
