/**
 * The class view of many labs' results (hagrade batch): what the gradebook, the class page and
 * the merged JUnit read.
 */
import type { Outcome, Part } from "./result.js";
import type { Text } from "./text.js";

/**
 * - graded: the checks ran (some may still be `error`: the counts say so);
 * - unreachable: the preflight found no lab to grade (no answer from the VIP at all);
 * - timeout: the lab's budget ran out (the partial result is kept);
 * - bad-spec: the roster row and the template make no valid spec;
 * - crashed: the grader failed on this lab (a bug: the reason says what).
 */
export type LabStatus = "graded" | "unreachable" | "timeout" | "bad-spec" | "crashed";

export interface ClassLab {
  index: number;
  lab: string;
  student: { id: string; name?: string; email?: string };
  status: LabStatus;
  score?: number;
  maxScore?: number;
  errors?: number;
  reason?: Text;
  leftToRestore?: string[];
  /** Points and outcome per check id (checks the run did not ask for are left out). */
  checks: Record<string, { outcome: Outcome; points: number; maxPoints: number }>;
  /** Relative to the class folder's parent: `<lab>/scorecard.html`. */
  scorecard?: string;
}

export interface ClassItem {
  id: string;
  part: Part | "net";
  title: Text;
  maxPoints: number;
  /** Labs in which the check was graded. */
  graded: number;
  counts: Record<Outcome, number>;
  /** Share of graded labs that passed it. */
  passRate: number;
  /** Mean share of its points earned (partial credit counts). */
  meanCredit: number;
  /**
   * Item discrimination: the correlation between earning this check's points and the rest of the
   * score. Near 0 or negative: the check does not tell strong labs from weak ones (a broken check,
   * or a step everyone gets). Null with fewer than 3 labs or no spread.
   */
  discrimination: number | null;
}

export interface ClassSummary {
  schemaVersion: 1;
  labs: ClassLab[];
  items: ClassItem[];
  statusCounts: Record<LabStatus, number>;
  scores: {
    graded: number;
    /** Percent of each lab's own maximum. */
    meanPercent: number | null;
    medianPercent: number | null;
    minPercent: number | null;
    maxPercent: number | null;
    /** Ten bins of 10 percentage points; the last includes 100 %. */
    histogram: number[];
  };
}

