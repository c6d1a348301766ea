/** Exit codes: a contract for CI jobs and batch scripts. */
export const EXIT = { ok: 0, studentFault: 1, badInput: 2, infrastructure: 3 } as const;

/** The exit codes as `--help` states them. */
export const EXIT_CODES_HELP = `Exit codes: 0 graded and score >= min-score, 1 the lab has faults, 2 bad input,
3 the grader could not reach what it must (infrastructure error).`;
