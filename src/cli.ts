import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { formatProblems, loadSpec } from "./config/load.js";
import { SecretRegistry } from "./config/secrets.js";
import { readCapped } from "./config/read-capped.js";
import { starterSpec } from "./config/init.js";
import { consoleReporter } from "./report/console.js";
import { jsonReporter } from "./report/json.js";
import { junitReporter } from "./report/junit.js";
import { htmlReporter } from "./report/html.js";
import type { Reporter } from "./report/reporter.js";
import { safeForTerminal } from "./report/terminal.js";
import { gradeLab } from "./runner/grade.js";
import { terminalPrompter } from "./runner/prompter.js";
import { openSsh } from "./runner/remote.js";
import { listPendingJournals, replayJournal, RestoreJournal } from "./ssh/index.js";
import type { RunResult } from "./model/index.js";
import { VERSION } from "./model/index.js";
import { RUBRIC } from "../checks/index.js";
import { EXIT } from "./cli/exit.js";
import { BATCH_HELP, cmdBatch, cmdMerge, cmdRegrade } from "./cli/batch.js";
import { UsageError, parseFlags, parseFlagsAndArgs, pickLang, pickPart } from "./cli/args.js";

/** Exit codes: a contract for CI jobs and batch scripts (see src/cli/exit.ts). */
export { EXIT };

const MAX_RESULT_BYTES = 64 * 1024 * 1024;

const HELP = `hagrade ${VERSION} — grades the "web service in high availability" lab

Usage:
  hagrade run --spec lab.yaml [options]   grade a lab
  hagrade init [--lang es|en] [--out lab.yaml]   write a commented starter spec
  hagrade restore [--journal FILE] [--spec lab.yaml]   undo what a killed run left changed
  hagrade report result.json [--html F] [--junit F] [--json F] [--lang es|en]   re-render a saved result
${BATCH_HELP}  hagrade --help | --version

Options of run:
  --spec FILE            the lab spec (YAML or JSON)                       (required)
  --part auto|lvs|proxy  part to grade (default: the spec's, else auto-detect)
  --lang es|en           language of messages (default: the spec's, else es)
  --only ID,ID           grade only these checks
  --disruptive           also run checks that stop a web server (always restored)
  --long                 also run checks that wait out long timeouts
  --json FILE            write the JSON result here
  --out DIR              report folder (default: reports/<lab>)
  --reporter LIST        console,json,junit,html (default: all; files go to --out)
  --min-score N          exit 0 only when the score is at least N (default: all points)
  --accept-new-host-keys trust unknown SSH host keys on first use and remember them
  --interactive          guide you through steps hagrade cannot do by SSH
  --journal-dir DIR      where restore journals are written (default: reports/.journal)

Options of restore:
  --dir DIR | --journal FILE   journals to replay (default: every unfinished one in reports/.journal)
  --spec FILE            the lab spec, when the journal does not name it
  --force                replay even if the run that wrote it seems alive

Exit codes: 0 graded and score >= min-score, 1 the lab has faults, 2 bad input,
3 the grader could not reach what it must (infrastructure error).
`;

async function cmdRun(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    spec: { type: "string" },
    part: { type: "string" },
    lang: { type: "string" },
    only: { type: "string" },
    disruptive: { type: "boolean", default: false },
    long: { type: "boolean", default: false },
    json: { type: "string" },
    out: { type: "string" },
    reporter: { type: "string" },
    "min-score": { type: "string" },
    "accept-new-host-keys": { type: "boolean", default: false },
    interactive: { type: "boolean", default: false },
    "journal-dir": { type: "string" },
  });
  if (!values.spec) throw new UsageError("--spec FILE is required (write one with `hagrade init`)");
  const part = pickPart(values.part);
  let minScore: number | undefined;
  if (values["min-score"] !== undefined) {
    minScore = Number(values["min-score"]);
    if (!Number.isFinite(minScore) || minScore < 0) throw new UsageError(`--min-score must be a number ≥ 0 (got "${String(values["min-score"])}")`);
  }
  const specPath = resolve(String(values.spec));
  const loaded = await loadSpec(specPath);
  const langGuess = pickLang(values.lang, "es");
  if (!loaded.ok) {
    process.stderr.write(formatProblems(loaded.problems, langGuess) + "\n");
    return EXIT.badInput;
  }
  const spec = loaded.spec;
  const lang = pickLang(values.lang, spec.lang);
  if (loaded.warnings.length) process.stderr.write(formatProblems(loaded.warnings, lang, { kind: "warnings" }) + "\n");

  const wanted = new Set(String(values.reporter ?? "console,json,junit,html").split(",").map((s) => s.trim()).filter(Boolean));
  for (const r of wanted) {
    if (!["console", "json", "junit", "html"].includes(r)) throw new UsageError(`--reporter: unknown reporter "${r}" (known: console, json, junit, html)`);
  }
  const outDir = resolve(String(values.out ?? join("reports", spec.lab)));
  // Every secret resolved during the run is redacted from every report.
  const secrets = new SecretRegistry();
  const redact = (text: string) => secrets.redact(text);
  const reporters: Reporter[] = [];
  if (wanted.has("console")) reporters.push(consoleReporter(lang));
  const jsonPath = values.json ? resolve(String(values.json)) : wanted.has("json") ? join(outDir, "result.json") : undefined;
  if (jsonPath) reporters.push(jsonReporter(jsonPath, redact));
  if (wanted.has("junit")) reporters.push(junitReporter(join(outDir, "junit.xml"), { lang, redact }));
  if (wanted.has("html")) reporters.push(htmlReporter(join(outDir, "scorecard.html"), { lang, redact }));

  // The person at the terminal answers what hagrade cannot do by SSH (stop a web server without it).
  const prompter = values.interactive ? terminalPrompter(lang) : undefined;
  const result = await gradeLab(spec, {
    rubric: RUBRIC,
    lang,
    ...(prompter ? { prompter } : {}),
    disruptive: Boolean(values.disruptive),
    long: Boolean(values.long),
    interactive: Boolean(values.interactive),
    acceptNewHostKeys: Boolean(values["accept-new-host-keys"]),
    journalDir: resolve(String(values["journal-dir"] ?? join("reports", ".journal"))),
    specPath,
    ...(part ? { part } : {}),
    ...(values.only ? { only: String(values.only).split(",").map((s) => s.trim()).filter(Boolean) } : {}),
    reporters,
    secrets,
  }).finally(() => prompter?.close());
  // The engine fired the run's end: the file reporters have written.
  if (result.reportsWritten.length) process.stdout.write(`${lang === "es" ? "Escrito" : "Written"}: ${result.reportsWritten.join(", ")}\n`);
  return exitCodeFor(result, minScore ?? spec.rubric.minScore ?? result.maxScore);
}

export function exitCodeFor(result: RunResult, minScore: number): number {
  if (result.counts.error > 0) return EXIT.infrastructure;
  return result.score + 1e-9 >= minScore ? EXIT.ok : EXIT.studentFault;
}

/**
 * Replays what a killed run left changed on a lab (a stopped web server, a changed page),
 * from the restore journals, and verifies it. Exit 0 when every journal is complete.
 */
async function cmdRestore(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    journal: { type: "string" },
    dir: { type: "string" },
    spec: { type: "string" },
    lang: { type: "string" },
    force: { type: "boolean", default: false },
    "accept-new-host-keys": { type: "boolean", default: false },
  });
  const lang = pickLang(values.lang, "es");
  const dir = resolve(String(values.dir ?? join("reports", ".journal")));
  const journals = values.journal
    ? [{ file: resolve(String(values.journal)), specPath: undefined as string | undefined }]
    : listPendingJournals(dir).map((j) => ({ file: j.file, specPath: j.specPath }));
  if (journals.length === 0) {
    process.stdout.write(lang === "es" ? `Nada que restaurar en ${dir}.\n` : `Nothing to restore in ${dir}.\n`);
    return EXIT.ok;
  }
  let complete = true;
  for (const j of journals) {
    const specPath = values.spec ? resolve(String(values.spec)) : (j.specPath ?? RestoreJournal.load(j.file).document.specPath);
    if (!specPath) throw new UsageError(`${j.file} does not name its lab spec: give it with --spec FILE`);
    const loaded = await loadSpec(specPath);
    if (!loaded.ok) {
      process.stderr.write(formatProblems(loaded.problems, lang) + "\n");
      return EXIT.badInput;
    }
    const secrets = new SecretRegistry();
    const ssh = await openSsh(loaded.spec, secrets, Boolean(values["accept-new-host-keys"]));
    if (!ssh.ok) throw new UsageError(ssh.message.en);
    try {
      const report = await replayJournal(j.file, ssh.pool, { force: Boolean(values.force) });
      if (report.writerAlive) {
        process.stdout.write(`${j.file}: ${lang === "es" ? "la ejecución que lo escribió sigue viva (use --force)" : "the run that wrote it is still alive (use --force)"}\n`);
        complete = false;
        continue;
      }
      for (const e of report.entries) {
        process.stdout.write(`${e.restored ? "✔" : "✘"} ${e.host}: ${safeForTerminal(e.description[lang])} — ${e.status}\n`);
      }
      for (const left of report.leftToDo) {
        complete = false;
        process.stdout.write(`${lang === "es" ? "Pendiente a mano en" : "Left to do by hand on"} ${left.host} (${left.address}):\n`);
        for (const c of left.commands) process.stdout.write(`  ${safeForTerminal(secrets.redact(c))}\n`);
      }
      if (!report.complete) complete = false;
    } finally {
      await ssh.pool.closeAll();
    }
  }
  return complete ? EXIT.ok : EXIT.infrastructure;
}

/** Re-renders a saved JSON result in any format, without touching the lab. */
async function cmdReport(args: string[]): Promise<number> {
  const { values, positionals } = parseFlagsAndArgs(args, {
    html: { type: "string" },
    junit: { type: "string" },
    json: { type: "string" },
    lang: { type: "string" },
    console: { type: "boolean", default: false },
  });
  if (positionals.length !== 1) throw new UsageError("usage: hagrade report RESULT.json [--html FILE] [--junit FILE] [--json FILE] [--lang es|en]");
  const file = resolve(positionals[0]!);
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
  return EXIT.ok;
}

async function cmdInit(args: string[]): Promise<number> {
  const { values } = parseFlags(args, { lang: { type: "string" }, out: { type: "string" }, force: { type: "boolean", default: false } });
  const lang = pickLang(values.lang, "es");
  const text = starterSpec(lang);
  if (!values.out) {
    process.stdout.write(text);
    return EXIT.ok;
  }
  const out = resolve(String(values.out));
  if (existsSync(out) && !values.force) throw new UsageError(`${out} already exists (use --force to overwrite)`);
  await writeFile(out, text, "utf8");
  process.stdout.write(`${out}\n`);
  return EXIT.ok;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case "-h":
      case "--help":
      case "help":
        process.stdout.write(HELP);
        return command === undefined ? EXIT.badInput : EXIT.ok;
      case "-v":
      case "--version":
        process.stdout.write(`${VERSION}\n`);
        return EXIT.ok;
      case "run":
        return await cmdRun(rest);
      case "init":
        return await cmdInit(rest);
      case "restore":
        return await cmdRestore(rest);
      case "report":
        return await cmdReport(rest);
      case "batch":
        return await cmdBatch(rest);
      case "merge":
        return await cmdMerge(rest);
      case "regrade":
        return await cmdRegrade(rest);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`hagrade: ${safeForTerminal(error.message)}\nRun \`hagrade --help\` for usage.\n`);
      return EXIT.badInput;
    }
    // The last line of defence: never a stack trace, but enough to report the bug.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`hagrade: internal error: ${safeForTerminal(message)}\n`);
    if (process.env.HAGRADE_DEBUG) process.stderr.write(`${(error as Error).stack ?? ""}\n`);
    return EXIT.infrastructure;
  }
}
