/**
 * A Gradescope autograder `results.json`: one test per check with its score, so a course that
 * collects grades in Gradescope (or any LMS that reads this widely copied format) takes hagrade's
 * scores as they are, with the student-facing message as each test's output (and, when the check
 * did not pass, the first lines of its evidence, each kind through its text renderer).
 */
import type { CheckResult, Lang, RunResult } from "../model/index.js";
import { redactStrings } from "./json.js";
import { writeReport } from "./output.js";
import { SUMMARY_WORDS, type Since } from "./overview.js";
import type { FileReporterOptions } from "./junit.js";
import type { Reporter } from "./reporter.js";
import { WORDS } from "./i18n.js";
import { checkEvidenceLines } from "./evidence-text.js";

/** A test's output in Gradescope is read by the student: a few lines of evidence. */
const EVIDENCE_LIMITS = { maxLines: 8, maxChars: 300 };

export interface GradescopeTest {
  name: string;
  number: string;
  score: number;
  max_score: number;
  status: "passed" | "failed";
  output: string;
  tags: string[];
  visibility: "visible";
}

export interface GradescopeResults {
  score: number;
  execution_time: number;
  output: string;
  stdout_visibility: "hidden";
  tests: GradescopeTest[];
}

/** Gradescope's results.json, written by the run itself (`hagrade run --gradescope /autograder/results/results.json`). */
export function gradescopeReporter(path: string, options: FileReporterOptions): Reporter {
  return {
    onEnd(result: RunResult) {
      const redact = options.redact ?? ((t: string) => t);
      return writeReport(path, JSON.stringify(redactStrings(renderGradescope(result, options), redact), null, 2) + "\n");
    },
  };
}

/**
 * The results.json of a run that could not grade at all (a spec that does not load): Gradescope
 * then shows the reason and a score of 0 instead of "the autograder failed to produce output".
 */
export function gradescopeNotGraded(reason: string): GradescopeResults {
  return { score: 0, execution_time: 0, output: reason, stdout_visibility: "hidden", tests: [] };
}

export function renderGradescope(result: RunResult, { lang, since }: FileReporterOptions): GradescopeResults {
  const w = WORDS[lang];
  const tests = result.checks
    // A check the run did not ask for (disruptive, long) is not part of this grade.
    .filter((c) => !c.notRequested)
    .map((c, i): GradescopeTest => ({
      name: `${c.id} — ${c.title[lang]}`,
      number: String(i + 1),
      score: c.points,
      max_score: c.maxPoints,
      status: c.outcome === "pass" ? "passed" : "failed",
      output: [`${w.outcome[c.outcome]}: ${c.message[lang]}`, c.fix ? `${w.fix}: ${c.fix[lang]}` : "", ...evidenceText(c, lang)].filter(Boolean).join("\n"),
      tags: [c.part, c.outcome],
      visibility: "visible",
    }));
  return {
    score: result.score,
    execution_time: Math.round(result.durationMs / 1000),
    output: [`hagrade ${result.tool.version} · ${w.part} ${w.partName[result.part]} · ${w.score}: ${result.score} / ${result.maxScore}`, ...sinceLines(since, lang)].join("\n"),
    stdout_visibility: "hidden",
    tests,
  };
}

function evidenceText(c: CheckResult, lang: Lang): string[] {
  if (c.outcome === "pass" || c.outcome === "skipped") return [];
  const lines = checkEvidenceLines(c, lang, EVIDENCE_LIMITS);
  return lines.length ? [`${WORDS[lang].evidence}:`, ...lines.map((l) => `  ${l}`)] : [];
}

function sinceLines(since: Since | undefined, lang: Lang): string[] {
  if (!since) return [];
  const s = SUMMARY_WORDS[lang];
  const w = WORDS[lang];
  const state = (st: { outcome: keyof typeof w.outcome; points: number; maxPoints: number } | undefined) => (st ? `${w.outcome[st.outcome]} ${st.points}/${st.maxPoints}` : s.notGraded);
  return [
    `${s.since} ${since.file} (${since.score} / ${since.maxScore}):`,
    ...(since.changes.length ? since.changes.map((c) => `  ${c.id}: ${state(c.before)} → ${state(c.after)}`) : [`  ${s.noChange}`]),
  ];
}
