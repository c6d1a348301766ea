/**
 * The contract between the runner and the checks: a check is its description (CheckInfo) plus
 * how it runs. Data flows one way: spec → probes → evidence → verdict → reporters. A check never
 * prints and never writes files: it returns a Verdict. The vocabulary itself lives in src/model.
 */
import type { CheckInfo, Verdict } from "../model/index.js";

export type * from "../model/index.js";

export interface CheckDefinition<Ctx = unknown> extends CheckInfo {
  /** Checks of the same `trafficGroup` never sample the VIP at the same time (shared scheduler counters). */
  usesVip?: boolean;
  /** Upper bound on the check's own run time; the runner enforces it. */
  timeoutMs?: number;
  run(ctx: Ctx): Promise<Verdict>;
}

