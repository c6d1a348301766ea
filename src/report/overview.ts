/**
 * What every summary of a run shows first, whatever its format: the checks with failures first,
 * the failed checks' fixes in rubric order ("fix next"), the counts that are not zero, and what
 * changed since an earlier result of the same lab (`--since`).
 */
import type { CheckResult, Lang, Outcome, RunResult, Text } from "../model/index.js";
import { countOf, type Forms } from "./plural.js";

/** The order of the overview: what needs doing first, then what could not be decided, then the rest. */
export const OVERVIEW_ORDER: readonly Outcome[] = ["fail", "error", "inconclusive", "pass", "skipped"];

/** The checks, failures first; within one outcome, in the run's (rubric) order. */
export function overviewRows(result: RunResult): CheckResult[] {
  return result.checks
    .map((c, i) => ({ c, i }))
    .sort((a, b) => OVERVIEW_ORDER.indexOf(a.c.outcome) - OVERVIEW_ORDER.indexOf(b.c.outcome) || a.i - b.i)
    .map(({ c }) => c);
}

/** The failed checks that say how to fix them, in rubric order: what the student does next. */
export function fixNext(result: RunResult): (CheckResult & { fix: Text })[] {
  return result.checks.filter((c): c is CheckResult & { fix: Text } => c.outcome === "fail" && c.fix !== undefined);
}

/** The outcomes that happened, with how many times, in the overview's order (zero counts left out). */
export function shownCounts(result: RunResult): [Outcome, number][] {
  return OVERVIEW_ORDER.map((o) => [o, result.counts[o] ?? 0] as [Outcome, number]).filter(([, n]) => n > 0);
}

/** How many checks ended one way, with the noun in the right number ("1 grader error", "2 fallidas"). */
export function outcomeCount(lang: Lang, outcome: Outcome, n: number): string {
  return countOf(lang, n, OUTCOME_FORMS[lang][outcome]);
}

const OUTCOME_FORMS: Record<Lang, Record<Outcome, Forms>> = {
  en: { pass: ["passed", "passed"], fail: ["failed", "failed"], inconclusive: ["inconclusive", "inconclusive"], error: ["grader error", "grader errors"], skipped: ["skipped", "skipped"] },
  es: {
    pass: ["superada", "superadas"],
    fail: ["fallida", "fallidas"],
    inconclusive: ["no concluyente", "no concluyentes"],
    error: ["fallo del evaluador", "fallos del evaluador"],
    skipped: ["omitida", "omitidas"],
  },
};

/** The first line of a message, cut to `max` characters: a table cell, not the whole story. */
export function oneLine(text: string, max = 160): string {
  const first = text.split("\n")[0]!.replace(/\s+/g, " ").trim();
  return first.length > max ? `${first.slice(0, max - 1)}…` : first;
}

/** One check as it stood in one result. */
export interface CheckState {
  outcome: Outcome;
  points: number;
  maxPoints: number;
}

/** A check whose outcome or points differ between two results (or that only one of them has). */
export interface Change {
  id: string;
  title: Text;
  before?: CheckState;
  after?: CheckState;
}

/** What an earlier result is compared with: its name as the user gave it, and the changes. */
export interface Since {
  /** The earlier result's file, as given on the command line. */
  file: string;
  /** When the earlier run started. */
  startedAt: string;
  score: number;
  maxScore: number;
  changes: Change[];
}

/** The checks whose outcome or points changed from `earlier` to `now`, in `now`'s order, then those gone. */
export function compareResults(earlier: RunResult, now: RunResult, file: string): Since {
  const state = (c: CheckResult): CheckState => ({ outcome: c.outcome, points: c.points, maxPoints: c.maxPoints });
  const before = new Map(earlier.checks.map((c) => [c.id, c]));
  const ids = new Set(now.checks.map((c) => c.id));
  const changes: Change[] = [];
  for (const c of now.checks) {
    const b = before.get(c.id);
    if (b && b.outcome === c.outcome && b.points === c.points && b.maxPoints === c.maxPoints) continue;
    changes.push({ id: c.id, title: c.title, ...(b ? { before: state(b) } : {}), after: state(c) });
  }
  for (const b of earlier.checks) if (!ids.has(b.id)) changes.push({ id: b.id, title: b.title, before: state(b) });
  return { file, startedAt: earlier.startedAt, score: earlier.score, maxScore: earlier.maxScore, changes };
}

/** The page-structure words of every summary (overview, fix next, since), in both languages. */
export const SUMMARY_WORDS: Record<Lang, {
  overview: string;
  check: string;
  outcome: string;
  points: string;
  message: string;
  fixNext: string;
  nothingToFix: string;
  since: string;
  noChange: string;
  notGraded: string;
  all: string;
  filter: string;
  score: string;
}> = {
  en: {
    overview: "Overview",
    check: "Check",
    outcome: "Outcome",
    points: "Points",
    message: "Message",
    fixNext: "Fix next",
    nothingToFix: "Nothing to fix: no check failed.",
    since: "Changed since",
    noChange: "No check changed its outcome or points.",
    notGraded: "not graded",
    all: "All",
    filter: "Show",
    score: "Score",
  },
  es: {
    overview: "Resumen",
    check: "Comprobación",
    outcome: "Resultado",
    points: "Puntos",
    message: "Mensaje",
    fixNext: "Qué arreglar primero",
    nothingToFix: "Nada que arreglar: ninguna comprobación ha fallado.",
    since: "Cambios desde",
    noChange: "Ninguna comprobación cambió de resultado ni de puntos.",
    notGraded: "no evaluada",
    all: "Todas",
    filter: "Mostrar",
    score: "Puntuación",
  },
};
