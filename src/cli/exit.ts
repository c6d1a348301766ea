/** Exit codes: a contract for CI jobs and batch scripts. */
export const EXIT = { ok: 0, studentFault: 1, badInput: 2, infrastructure: 3 } as const;
