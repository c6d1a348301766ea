/** `hagrade report`: re-renders a saved JSON result in any format, without touching the lab. */
import { resolve } from "node:path";
import { readCapped } from "../config/read-capped.js";
import { compareResults } from "../report/overview.js";
import { upgradeRunResult, type RunResult } from "../model/index.js";
import { exitCodeFor, parseMinScore } from "./exit.js";
import { UsageError, pickLang } from "./args.js";
import { defineCommand } from "./command.js";
import { FORMAT_OPTIONS, reportersFor } from "./outputs.js";

const MAX_RESULT_BYTES = 64 * 1024 * 1024;

export const reportCommand = defineCommand({
  name: "report",
  summary: "re-render a saved result, or compare it with an earlier one",
  usage: ["report RESULT.json [--since EARLIER.json] [--html FILE] [--junit FILE] [--json FILE|-] [--tap FILE|-] [--markdown FILE|-] [--gradescope FILE]"],
  positionals: true,
  options: {
    ...FORMAT_OPTIONS,
    since: { type: "string", arg: "FILE", help: "an earlier result of the same lab: every format also shows the checks whose outcome or points changed" },
    lang: { type: "string", arg: "es|en", help: "language of the reports (default: the result's)" },
    console: { type: "boolean", default: false, help: "print the result as run did (the default when no report goes to standard output or a file)" },
    "min-score": { type: "string", arg: "N", help: "the exit code's minimum, as for run (default: all points)" },
  },
  notes: [
    "Exit code: as run's for that result: 3 when a check is a grader error, 0 when the score is at least\n" +
      "--min-score (default: every point; a result does not record the spec's rubric.minScore), else 1; 2 bad input.",
  ],
  examples: [
    "hagrade report reports/alumno-01/result.json --html scorecard.html --lang en",
    "hagrade report new/result.json --since old/result.json",
    'hagrade report reports/alumno-01/result.json --markdown "$GITHUB_STEP_SUMMARY"',
  ],
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError("usage: hagrade report RESULT.json [--since EARLIER.json] [--html FILE] [--junit FILE] [--json FILE|-] [--lang es|en]");
    const file = resolve(positionals[0]!);
    const minScore = parseMinScore(values["min-score"]);
    let result = await readResult(file);
    const lang = pickLang(values.lang, result.lang);
    result = { ...result, lang };
    const since = values.since === undefined ? undefined : compareResults(await readResult(resolve(values.since)), result, values.since);
    const paths = { json: values.json, junit: values.junit, html: values.html, gradescope: values.gradescope, tap: values.tap, markdown: values.markdown };
    const anyFile = Object.values(paths).some((p) => p !== undefined);
    const { reporters, messages } = reportersFor({ inFolder: new Set(), paths, lang, ...(since ? { since } : {}), console: Boolean(values.console) || !anyFile });
    const c = reporters.find((r) => r.onBegin);
    if (c) {
      // A saved run replayed on the console: its checks as they ended, then its end.
      c.onBegin?.({ lab: result.lab, part: result.part, lang, checks: result.checks.map((k) => ({ id: k.id, title: k.title })), startedAt: result.startedAt });
      for (const check of result.checks) c.onCheckEnd?.(check);
    }
    for (const r of reporters) {
      const written = await r.onEnd?.(result);
      if (written && written.length) messages.write(`${lang === "es" ? "Escrito" : "Written"}: ${written.join(", ")}\n`);
    }
    return exitCodeFor(result, minScore ?? result.maxScore);
  },
});

/** A saved result, read within a bound and checked to be one; anything else is a UsageError naming the file. */
export async function readResult(file: string): Promise<RunResult> {
  let result: RunResult;
  try {
    // A result is at most a few MiB; a device or a huge file must not hang or exhaust the grader.
    const bytes = await readCapped(file, MAX_RESULT_BYTES + 1);
    if (bytes.length > MAX_RESULT_BYTES) throw new Error(`larger than ${MAX_RESULT_BYTES} bytes`);
    result = JSON.parse(bytes.toString("utf8")) as RunResult;
  } catch (error) {
    throw new UsageError(`${file}: not a readable JSON result (${(error as Error).message})`);
  }
  if (result?.schemaVersion !== 1 || !Array.isArray(result.checks)) {
    throw new UsageError(`${file}: not a hagrade result (schemaVersion 1 expected)`);
  }
  // Evidence saved by an older hagrade is read into today's kinds, so every reporter can draw it.
  return upgradeRunResult(result);
}
