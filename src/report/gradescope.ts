/**
 * A Gradescope autograder `results.json`: one test per check with its score, so a course that
 * collects grades in Gradescope (or any LMS that reads this widely copied format) takes hagrade's
 * scores as they are, with the student-facing message as each test's output.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { RunResult } from "../model/index.js";
import type { FileReporterOptions } from "./junit.js";
import type { Reporter } from "./reporter.js";
import { WORDS } from "./i18n.js";

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

export function gradescopeReporter(path: string, options: FileReporterOptions): Reporter {
  return {
    async onEnd(result: RunResult) {
      await mkdir(dirname(path), { recursive: true });
      const redact = options.redact ?? ((t: string) => t);
      await writeFile(path, redact(JSON.stringify(renderGradescope(result, options), null, 2)) + "\n", "utf8");
      return [path];
    },
  };
}

export function renderGradescope(result: RunResult, { lang }: FileReporterOptions): GradescopeResults {
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
      output: [`${w.outcome[c.outcome]}: ${c.message[lang]}`, c.fix ? `${w.fix}: ${c.fix[lang]}` : ""].filter(Boolean).join("\n"),
      tags: [c.part, c.outcome],
      visibility: "visible",
    }));
  return {
    score: result.score,
    execution_time: Math.round(result.durationMs / 1000),
    output: `hagrade ${result.tool.version} · ${w.part} ${w.partName[result.part]} · ${w.score}: ${result.score} / ${result.maxScore}`,
    stdout_visibility: "hidden",
    tests,
  };
}
