/** `hagrade report`: re-renders a saved JSON result in any format, without touching the lab. */
import { resolve } from "node:path";
import { readCapped } from "../config/read-capped.js";
import { consoleReporter } from "../report/console.js";
import { jsonReporter } from "../report/json.js";
import { junitReporter } from "../report/junit.js";
import { htmlReporter } from "../report/html.js";
import type { Reporter } from "../report/reporter.js";
import type { RunResult } from "../model/index.js";
import { exitCodeFor, parseMinScore } from "./exit.js";
import { UsageError, pickLang } from "./args.js";
import { defineCommand } from "./command.js";

const MAX_RESULT_BYTES = 64 * 1024 * 1024;

export const reportCommand = defineCommand({
  name: "report",
  summary: "re-render a saved result",
  usage: ["report RESULT.json [--html FILE] [--junit FILE] [--json FILE] [--lang es|en]"],
  positionals: true,
  options: {
    html: { type: "string", arg: "FILE", help: "write the HTML scorecard here" },
    junit: { type: "string", arg: "FILE", help: "write JUnit XML here" },
    json: { type: "string", arg: "FILE", help: "write the JSON result here" },
    lang: { type: "string", arg: "es|en", help: "language of the reports (default: the result's)" },
    console: { type: "boolean", default: false, help: "print the result as run did (the default when no file is asked for)" },
    "min-score": { type: "string", arg: "N", help: "the exit code's minimum, as for run (default: all points)" },
  },
  notes: [
    "Exit code: as run's for that result: 3 when a check is a grader error, 0 when the score is at least\n" +
      "--min-score (default: every point; a result does not record the spec's rubric.minScore), else 1; 2 bad input.",
  ],
  examples: ["hagrade report reports/alumno-01/result.json --html scorecard.html --lang en"],
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError("usage: hagrade report RESULT.json [--html FILE] [--junit FILE] [--json FILE] [--lang es|en]");
    const file = resolve(positionals[0]!);
    const minScore = parseMinScore(values["min-score"]);
    let result = await readResult(file);
    const lang = pickLang(values.lang, result.lang);
    result = { ...result, lang };
    const reporters: Reporter[] = [];
    if (values.html) reporters.push(htmlReporter(resolve(values.html), { lang }));
    if (values.junit) reporters.push(junitReporter(resolve(values.junit), { lang }));
    if (values.json) reporters.push(jsonReporter(resolve(values.json)));
    if (values.console || reporters.length === 0) {
      // A saved run replayed: its checks as they ended, then its end.
      const c = consoleReporter(lang);
      c.onBegin?.({ lab: result.lab, part: result.part, lang, checks: result.checks.map((k) => ({ id: k.id, title: k.title })), startedAt: result.startedAt });
      for (const check of result.checks) c.onCheckEnd?.(check);
      await c.onEnd?.(result);
    }
    for (const r of reporters) {
      const written = await r.onEnd?.(result);
      if (written && written.length) process.stdout.write(`${lang === "es" ? "Escrito" : "Written"}: ${written.join(", ")}\n`);
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
  return result;
}
