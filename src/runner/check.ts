import type { CheckContext } from "./context.js";
import type { Evidence, Text, Verdict } from "../model/index.js";
import type { CheckDefinition } from "./types.js";

export type Check = CheckDefinition<CheckContext>;

/** Declares a rubric check (keeps its literal types and documents the contract at the call site). */
export function defineCheck(check: Check): Check {
  return check;
}

import { ev, text } from "../model/index.js";

/** Bilingual text, and the evidence constructors (the only way a check makes evidence). */
export { ev, text };

/** Every expectation is met: a pass earns all the check's points (partial credit is a `fail`). */
export function pass(message: Text, evidence: Evidence[] = [], extra: { fix?: Text } = {}): Verdict {
  return { outcome: "pass", message, evidence, ...extra };
}

/**
 * Something the step asks for is not there. `credit` (0 ≤ credit < 1) gives the parts that are
 * right their share of the points; the message must say which part earned them.
 */
export function fail(message: Text, fix: Text, evidence: Evidence[] = [], extra: { credit?: number } = {}): Verdict {
  return { outcome: "fail", message, fix, evidence, ...extra };
}

export function inconclusive(message: Text, fix: Text, evidence: Evidence[] = []): Verdict {
  return { outcome: "inconclusive", message, fix, evidence };
}

export function graderError(message: Text, fix: Text, evidence: Evidence[] = []): Verdict {
  return { outcome: "error", message, fix, evidence };
}

export function skipped(message: Text, evidence: Evidence[] = []): Verdict {
  return { outcome: "skipped", message, evidence };
}

/** The check's SSH access; the runner gates SSH checks, so its absence is a wiring bug. */
export function remote(ctx: CheckContext): NonNullable<CheckContext["ssh"]> {
  if (!ctx.ssh) throw Object.assign(new Error("no SSH access"), { outcome: "skipped", message: text("Sin acceso SSH.", "No SSH access.") });
  return ctx.ssh;
}
