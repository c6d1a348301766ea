/**
 * The result vocabulary every part of hagrade speaks: outcomes, verdicts, check and run results.
 * The runner fills them, checks return them, reporters and the class outputs only read them.
 * This folder imports nothing of the project (Playwright's testReporter.d.ts is the model).
 */
import type { Evidence } from "./evidence.js";
import type { Lang, Text } from "./text.js";

export type Part = "lvs" | "proxy";
export type PartOption = Part | "auto";

/** What a check's result means, and whose fault a non-pass is. */
export type Outcome =
  /** The lab does what the step asks. */
  | "pass"
  /** The student's lab is wrong in the way the check looks for. */
  | "fail"
  /** The grader could not decide (the message says what would decide it). */
  | "inconclusive"
  /** The grader's own environment failed (no route, unreadable key): not the student's fault. */
  | "error"
  /** Not run: a dependency failed, a needed capability is off, or not asked for. */
  | "skipped";


/**
 * What a check needs. `disruptive`: changes the lab, runs only with --disruptive. `may-disrupt`:
 * a check whose disruptive half runs only with --disruptive (the check reads options.disruptive)
 * while the rest always runs. `long`: really waits out a long timeout, runs only with --long.
 * Checks with any of these three run after every other check, one at a time. `ssh-if-given`:
 * judges from HTTP alone without SSH, and reads the balancer when the spec gives SSH (the run
 * then opens it even when no check needs it); never skipped for the want of it.
 */
export type Need = "http" | "ssh" | "ssh-if-given" | "disruptive" | "may-disrupt" | "long";


interface VerdictBase {
  message: Text;
  /** How to fix it, for the student (fail) or for the grader (inconclusive/error). */
  fix?: Text;
  evidence: Evidence[];
  /**
   * Skipped because the run did not ask for it (disruptive or long checks without their flag):
   * its points leave the maximum, so a student's self-check can reach full marks.
   */
  notRequested?: boolean;
}

/**
 * A check's answer. Only `fail` may carry partial credit: a check passes only when every
 * expectation is met, so a pass always earns all its points (a `pass` with credit < 1 cannot be
 * written, and the runner turns one that arrives anyway, e.g. through a cast, into a `fail`).
 */
export type Verdict =
  | (VerdictBase & { outcome: "pass"; credit?: never })
  | (VerdictBase & {
      outcome: "fail";
      /**
       * The fraction of the check's points the parts that are right earned (0 ≤ credit < 1;
       * default 0); the message says which part earned them.
       */
      credit?: number;
    })
  | (VerdictBase & { outcome: "inconclusive" | "error" | "skipped"; credit?: never });

/** What reporters and rubrics know of a check: everything but how it runs. */
export interface CheckInfo {
  /** Stable id; reports, rubrics and gradebooks use it: never rename. */
  id: string;
  part: Part | "net";
  title: Text;
  /** Default points; the spec's rubric may override them. */
  points: number;
  needs: Need[];
  /** Ids of checks whose failure makes this one meaningless (it is then skipped with the reason). */
  dependsOn?: string[];
}

export interface CheckResult {
  id: string;
  part: Part | "net";
  title: Text;
  outcome: Outcome;
  points: number;
  maxPoints: number;
  /** The fraction of the points earned (0..1), so `hagrade regrade` can re-score under a new rubric. */
  credit?: number;
  /** Not run because the run did not ask for it (see Verdict.notRequested): out of the maximum. */
  notRequested?: boolean;
  message: Text;
  fix?: Text;
  evidence: Evidence[];
  startedAt: string;
  durationMs: number;
  /** What this check itself sent (a sample shared through `memo` counts for the check that took it). */
  traffic?: CheckTraffic;
}

export interface CheckTraffic {
  httpRequests: number;
  sshCommands: number;
}

export interface RunResult {
  schemaVersion: 1;
  /**
   * The version of the evidence types (evidence.ts EVIDENCE_VERSION); absent in results written
   * before them, whose evidence upgradeRunResult reads into today's kinds.
   */
  evidenceVersion?: 2;
  tool: { name: "hagrade"; version: string };
  lab: string;
  student?: { id?: string; name?: string; email?: string };
  part: Part;
  /** How the part was chosen: given by the user/spec, or detected from the traffic. */
  partSource: "spec" | "cli" | "detected";
  lang: Lang;
  startedAt: string;
  durationMs: number;
  score: number;
  maxScore: number;
  counts: Record<Outcome, number>;
  /** What the grader sent: it is a grader, not a load generator. */
  traffic: { httpRequests: number; sshCommands: number };
  /**
   * ms from the start until the run's preflight settled: the part decided and the balancer's
   * SSH connection made (or refused). Checks that need no SSH already run during the connection.
   */
  preflightMs?: number;
  /** Notes about the run itself (part detection, degraded features), in both languages. */
  notes: Text[];
  checks: CheckResult[];
}
