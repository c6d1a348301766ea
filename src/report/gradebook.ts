/**
 * The class gradebook as CSV: one row per student (id, name, email, score, max, one column per
 * check), ready to import into a spreadsheet or an LMS gradebook. UTF-8 with a byte-order mark so
 * spreadsheets show accents right; cells a spreadsheet would run as a formula are defused.
 */
import { stringify } from "csv-stringify/sync";
import type { ClassSummary } from "../model/index.js";
import type { Lang } from "../model/index.js";

export function renderGradebook(summary: ClassSummary, lang: Lang): string {
  const ids = summary.items.map((i) => i.id);
  const header = ["id", "name", "email", "lab", "status", "score", "max_score", "percent", ...ids, "grader_errors", "note"];
  const rows = summary.labs.map((l) => {
    const scored = l.score !== undefined && l.maxScore !== undefined;
    return [
      text(l.student.id),
      text(l.student.name ?? ""),
      text(l.student.email ?? ""),
      text(l.lab),
      l.status,
      // A lab that could not be graded has no score (not a zero): the teacher re-runs it.
      scored && l.status === "graded" ? l.score : "",
      scored && l.status === "graded" ? l.maxScore : "",
      scored && l.status === "graded" && l.maxScore ? Math.round((1000 * l.score!) / l.maxScore) / 10 : "",
      ...ids.map((id) => (l.status === "graded" && l.checks[id] ? l.checks[id].points : "")),
      l.errors ?? "",
      text(l.reason?.[lang] ?? ""),
    ];
  });
  return stringify([header, ...rows], { bom: true, record_delimiter: "unix" });
}

/** A cell starting with = + - @ (or a tab/CR) would be a formula in a spreadsheet: CSV injection. */
function text(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
