/** `hagrade run`: grades one lab from its spec and writes the chosen reports. */
import { join, resolve } from "node:path";
import { formatProblems, loadSpec } from "../config/load.js";
import { SecretRegistry, SHORT_SECRET_WARNING } from "../config/secrets.js";
import { gradescopeNotGraded } from "../report/gradescope.js";
import { STDOUT, writeReport } from "../report/output.js";
import { gradeLab } from "../runner/grade.js";
import { terminalPrompter } from "../runner/prompter.js";
import { RUBRIC } from "../../checks/index.js";
import { EXIT, EXIT_CODES_HELP, exitCodeFor, parseMinScore } from "./exit.js";
import { UsageError, pickLang, pickPart } from "./args.js";
import { defineCommand } from "./command.js";
import { parseOnly } from "./checks.js";
import { announceInterrupts } from "./interrupt.js";
import { FORMAT_OPTIONS, REPORTERS, parseReporterList, reportersFor } from "./outputs.js";

export const runCommand = defineCommand({
  name: "run",
  summary: "grade a lab",
  usage: ["run --spec lab.yaml [options]"],
  options: {
    spec: { type: "string", arg: "FILE", help: "the lab spec (YAML or JSON)  (required)" },
    part: { type: "string", arg: "auto|lvs|proxy", help: "part to grade (default: the spec's, else auto-detect)" },
    lang: { type: "string", arg: "es|en", help: "language of messages (default: the spec's, else es)" },
    only: { type: "string", arg: "ID,ID", help: "grade only these checks (see `hagrade checks`)" },
    disruptive: { type: "boolean", default: false, help: "also run checks that stop a web server (always restored)" },
    long: { type: "boolean", default: false, help: "also run checks that wait out long timeouts" },
    out: { type: "string", arg: "DIR", help: "report folder (default: reports/<lab>)" },
    reporter: { type: "string", arg: "LIST", help: `what to write: ${REPORTERS.join(",")} (default: console,json,junit,html; files go to --out)` },
    ...FORMAT_OPTIONS,
    "min-score": { type: "string", arg: "N", help: "exit 0 only when the score is at least N (default: all points)" },
    "accept-new-host-keys": { type: "boolean", default: false, help: "trust unknown SSH host keys on first use and remember them" },
    interactive: { type: "boolean", default: false, help: "guide you through steps hagrade cannot do by SSH" },
    "journal-dir": { type: "string", arg: "DIR", help: "where restore journals are written (default: reports/.journal)" },
  },
  notes: [EXIT_CODES_HELP],
  examples: [
    "hagrade run --spec lab.yaml",
    "hagrade run --spec lab.yaml --disruptive --reporter console,junit,markdown --out reports/ci",
    'hagrade run --spec lab.yaml --markdown "$GITHUB_STEP_SUMMARY"',
    "hagrade run --spec lab.yaml --reporter console --gradescope /autograder/results/results.json",
    "hagrade run --spec lab.yaml --reporter console --json - | jq .score",
  ],
  async run(values) {
    if (!values.spec) throw new UsageError("--spec FILE is required (write one with `hagrade init`)");
    const part = pickPart(values.part);
    const only = parseOnly(values.only);
    const minScore = parseMinScore(values["min-score"]);
    const inFolder = parseReporterList(values.reporter ?? "console,json,junit,html");
    const paths = { json: values.json, junit: values.junit, html: values.html, gradescope: values.gradescope, tap: values.tap, markdown: values.markdown };
    const specPath = resolve(values.spec);
    const loaded = await loadSpec(specPath);
    const langGuess = pickLang(values.lang, "es");
    if (!loaded.ok) {
      const problems = formatProblems(loaded.problems, langGuess);
      process.stderr.write(problems + "\n");
      // Gradescope shows the reason rather than "the autograder produced no results".
      if (values.gradescope) await writeReport(values.gradescope === STDOUT ? STDOUT : resolve(values.gradescope), JSON.stringify(gradescopeNotGraded(problems), null, 2) + "\n");
      return EXIT.badInput;
    }
    const spec = loaded.spec;
    const lang = pickLang(values.lang, spec.lang);
    if (loaded.warnings.length) process.stderr.write(formatProblems(loaded.warnings, lang, { kind: "warnings" }) + "\n");

    const outDir = resolve(values.out ?? join("reports", spec.lab));
    // Every secret resolved during the run is redacted from every report.
    const secrets = new SecretRegistry();
    const redact = (text: string) => secrets.redact(text);
    const { reporters, messages } = reportersFor({ inFolder, paths, outDir, lang, redact, console: inFolder.has("console") });

    // The person at the terminal answers what hagrade cannot do by SSH (stop a web server without it).
    const prompter = values.interactive ? terminalPrompter(lang) : undefined;
    const journalDir = resolve(values["journal-dir"] ?? join("reports", ".journal"));
    const quiet = announceInterrupts({ journalDir, specPath, lang });
    const result = await gradeLab(spec, {
      rubric: RUBRIC,
      lang,
      ...(prompter ? { prompter } : {}),
      disruptive: Boolean(values.disruptive),
      long: Boolean(values.long),
      interactive: Boolean(values.interactive),
      acceptNewHostKeys: Boolean(values["accept-new-host-keys"]),
      journalDir,
      specPath,
      ...(part ? { part } : {}),
      ...(only ? { only } : {}),
      reporters,
      secrets,
    }).finally(() => {
      prompter?.close();
      quiet();
    });
    if (secrets.tooShort > 0) process.stderr.write(`${SHORT_SECRET_WARNING[lang]}\n`);
    // The engine fired the run's end: the file reporters have written.
    if (result.reportsWritten.length) messages.write(`${lang === "es" ? "Escrito" : "Written"}: ${result.reportsWritten.join(", ")}\n`);
    return exitCodeFor(result, minScore ?? spec.rubric.minScore ?? result.maxScore);
  },
});
