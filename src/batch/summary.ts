/**
 * The class view of many labs' results: each student's score, each check's pass rate across the
 * class (item analysis: which step the class failed most), and the score distribution. Built only
 * from the labs' saved entries and results, so one run, shards merged, or a re-grade give the same
 * summary for the same results.
 */
import { ALL_CHECKS } from "../../checks/index.js";
import type { CheckResult, ClassItem, ClassLab, ClassSummary, LabStatus, Outcome, RunResult } from "../model/index.js";
import type { LabEntry } from "./entry.js";

export type { ClassItem, ClassLab, ClassSummary } from "../model/index.js";

const OUTCOMES: Outcome[] = ["pass", "fail", "inconclusive", "error", "skipped"];
const STATUSES: LabStatus[] = ["graded", "unreachable", "timeout", "bad-spec", "crashed"];

export function summarizeClass(labs: { entry: LabEntry; result?: RunResult }[]): ClassSummary {
  const sorted = [...labs].sort((a, b) => a.entry.index - b.entry.index || a.entry.lab.localeCompare(b.entry.lab));
  const classLabs: ClassLab[] = sorted.map(({ entry, result }) => ({
    index: entry.index,
    lab: entry.lab,
    student: entry.student,
    status: entry.status,
    ...(entry.score !== undefined ? { score: entry.score } : {}),
    ...(entry.maxScore !== undefined ? { maxScore: entry.maxScore } : {}),
    ...(entry.errors !== undefined ? { errors: entry.errors } : {}),
    ...(entry.reason ? { reason: entry.reason } : {}),
    ...(entry.leftToRestore?.length ? { leftToRestore: entry.leftToRestore } : {}),
    checks: Object.fromEntries(
      (result?.checks ?? []).filter((c) => !c.notRequested).map((c) => [c.id, { outcome: c.outcome, points: c.points, maxPoints: c.maxPoints }]),
    ),
    ...(result ? { scorecard: `${entry.lab}/scorecard.html` } : {}),
  }));

  // Checks in the registry's order (the lab's order of steps), then any unknown to this version.
  const seen = new Map<string, CheckResult>();
  for (const { result } of sorted) for (const c of result?.checks ?? []) if (!c.notRequested && !seen.has(c.id)) seen.set(c.id, c);
  const order = [...ALL_CHECKS.map((c) => c.id).filter((id) => seen.has(id)), ...[...seen.keys()].filter((id) => !ALL_CHECKS.some((c) => c.id === id))];
  const gradedLabs = classLabs.filter((l) => l.status === "graded" || l.status === "timeout");

  const items: ClassItem[] = order.map((id) => {
    const first = seen.get(id)!;
    const rows = gradedLabs.filter((l) => l.checks[id]);
    const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
    for (const l of rows) counts[l.checks[id]!.outcome]++;
    const credits = rows.map((l) => credit(l.checks[id]!));
    const rest = rows.map((l) => (l.score ?? 0) - l.checks[id]!.points);
    return {
      id,
      part: first.part,
      title: first.title,
      maxPoints: Math.max(...rows.map((l) => l.checks[id]!.maxPoints), 0),
      graded: rows.length,
      counts,
      passRate: rows.length ? round(counts.pass / rows.length) : 0,
      meanCredit: rows.length ? round(credits.reduce((a, b) => a + b, 0) / rows.length) : 0,
      discrimination: correlation(credits, rest),
    };
  });

  const percents = gradedLabs
    .filter((l) => l.status === "graded" && l.maxScore)
    .map((l) => (100 * (l.score ?? 0)) / l.maxScore!)
    .sort((a, b) => a - b);
  const histogram = new Array<number>(10).fill(0);
  for (const p of percents) histogram[Math.min(9, Math.floor(p / 10))]!++;
  const statusCounts = Object.fromEntries(STATUSES.map((s) => [s, classLabs.filter((l) => l.status === s).length])) as Record<LabStatus, number>;
  return {
    schemaVersion: 1,
    labs: classLabs,
    items,
    statusCounts,
    scores: {
      graded: percents.length,
      meanPercent: percents.length ? round(percents.reduce((a, b) => a + b, 0) / percents.length) : null,
      medianPercent: percents.length ? round(median(percents)) : null,
      minPercent: percents.length ? round(percents[0]!) : null,
      maxPercent: percents.length ? round(percents[percents.length - 1]!) : null,
      histogram,
    },
  };
}

function credit(c: { points: number; maxPoints: number; outcome: Outcome }): number {
  return c.maxPoints > 0 ? c.points / c.maxPoints : c.outcome === "pass" ? 1 : 0;
}

function median(sorted: number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Pearson correlation; null when it is not defined (fewer than 3 pairs, or no spread). */
export function correlation(x: number[], y: number[]): number | null {
  const n = x.length;
  if (n < 3 || y.length !== n) return null;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx;
    const dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx < 1e-12 || syy < 1e-12) return null;
  return round(sxy / Math.sqrt(sxx * syy));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
