/**
 * `hagrade batch`, `hagrade merge` and `hagrade regrade`: the class-level commands. They return
 * exit codes (the same contract as `run`); bad flags are UsageErrors, printed by the CLI as for
 * every command.
 */
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { htmlReporter } from "../report/html.js";
import { jsonReporter } from "../report/json.js";
import { junitReporter } from "../report/junit.js";
import { gradescopeReporter } from "../report/gradescope.js";
import { safeForTerminal } from "../report/terminal.js";
import { upgradeRunResult, type Lang, type RunResult } from "../model/index.js";
import { readEntries, writeEntry } from "../batch/entry.js";
import { mergeShards, writeClassOutputs } from "../batch/class.js";
import { loadRoster, formatRosterProblems, sharedPasswordWarning } from "../batch/roster.js";
import { CONCURRENCY_CEILING, defaultConcurrency, LAB_GRADING_BYTES } from "../batch/concurrency.js";
import { DEFAULT_BUDGET_MS, gradeBatch, parseShard } from "../batch/run.js";
import { loadRubric, regradeResult } from "../batch/regrade.js";
import type { ClassSummary } from "../batch/summary.js";
import type { LabEntry } from "../batch/entry.js";
import { shQuote } from "../ssh/index.js";
import { EXIT } from "./exit.js";
import { UsageError, pickLang, pickPart } from "./args.js";
import { defineCommand, type Flags, type OptionSpecs } from "./command.js";
import { parseOnly } from "./checks.js";
import { LAB_STATUS_WORDS as STATUS_WORDS } from "../report/class-html.js";


const BATCH_OPTIONS = {
  roster: { type: "string", arg: "FILE", help: "CSV (id,name,email,lab,spec, and dotted spec fields such as vip.address) or YAML list  (required)" },
  "spec-template": { type: "string", arg: "FILE", help: "the course's spec; each roster row overrides its fields" },
  out: { type: "string", arg: "DIR", help: "output folder (default: reports); one folder per lab, the class in DIR/class" },
  concurrency: { type: "string", arg: "N", help: `labs graded at once (default: ${defaultConcurrency()} on this machine: as many as half its free memory holds at ${LAB_GRADING_BYTES / 2 ** 20} MiB a lab, at most ${CONCURRENCY_CEILING})` },
  budget: { type: "string", arg: "SECONDS", help: `time for each lab before it is cut short (default: ${DEFAULT_BUDGET_MS / 1000})` },
  shard: { type: "string", arg: "I/N", help: "grade only the I-th of N slices of the roster (CI matrices; then hagrade merge)" },
  force: { type: "boolean", default: false, help: "grade again labs already graded with the same spec and options" },
  lang: { type: "string", arg: "es|en", help: "as for run" },
  part: { type: "string", arg: "auto|lvs|proxy", help: "as for run" },
  only: { type: "string", arg: "ID,ID", help: "as for run" },
  disruptive: { type: "boolean", default: false, help: "as for run" },
  long: { type: "boolean", default: false, help: "as for run" },
  "accept-new-host-keys": { type: "boolean", default: false, help: "as for run" },
} as const satisfies OptionSpecs;

export const batchCommand = defineCommand({
  name: "batch",
  summary: "grade a whole class",
  usage: ["batch --roster roster.csv --spec-template lab.yaml [options]"],
  options: BATCH_OPTIONS,
  notes: ["Exit codes: 0 every lab graded, 2 a bad roster or spec, 3 a lab unreachable, cut short or left to restore."],
  examples: ["hagrade batch --roster roster.csv --spec-template lab.yaml --concurrency 4 --out reports"],
  run: batch,
});

async function batch(values: Flags<typeof BATCH_OPTIONS>): Promise<number> {
  const l = pickLang(values.lang, "es");
  if (!values.roster) throw new UsageError("--roster FILE is required (a CSV with a header: id,name,email,vip.address,...)");
  const part = pickPart(values.part);
  const only = parseOnly(values.only);
  const concurrency = values.concurrency === undefined ? defaultConcurrency() : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency must be a whole number from 1 to 64 (got "${String(values.concurrency)}")`);
  const budgetS = values.budget === undefined ? DEFAULT_BUDGET_MS / 1000 : Number(values.budget);
  if (!Number.isFinite(budgetS) || budgetS < 5 || budgetS > 86_400) throw new UsageError(`--budget must be seconds between 5 and 86400 (got "${String(values.budget)}")`);
  const shard = values.shard === undefined ? undefined : parseShard(values.shard);
  if (values.shard !== undefined && !shard) throw new UsageError(`--shard must be I/N with 1 ≤ I ≤ N, e.g. 2/5 (got "${values.shard}")`);
  const template = values["spec-template"] ? path.resolve(values["spec-template"]) : undefined;
  if (template && !existsSync(template)) throw new UsageError(`--spec-template: ${template} does not exist`);

  const roster = await loadRoster(values.roster);
  if (!roster.ok) {
    process.stderr.write(formatRosterProblems(roster.problems, l) + "\n");
    return EXIT.badInput;
  }
  if (!template && roster.entries.some((e) => !e.specFile)) {
    throw new UsageError("--spec-template FILE is required unless every roster row has a spec column");
  }
  if (template) {
    const shared = sharedPasswordWarning(await readSpecData(template), roster.entries);
    if (shared) process.stderr.write(`hagrade: ${shared[l]}\n`);
  }
  const outDir = path.resolve(values.out ?? "reports");
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const total = shard ? roster.entries.filter((e) => e.index % shard.total === shard.index - 1).length : roster.entries.length;
  let done = 0;
  const out = process.stdout;
  out.write(
    l === "es"
      ? `Evaluando ${total} prácticas${shard ? ` (parte ${shard.index}/${shard.total} de la lista)` : ""}, ${concurrency} a la vez, ${budgetS} s como máximo cada una.\n`
      : `Grading ${total} labs${shard ? ` (slice ${shard.index}/${shard.total} of the roster)` : ""}, ${concurrency} at once, at most ${budgetS} s each.\n`,
  );
  let entries: LabEntry[];
  const warned = new Set<string>();
  try {
    entries = await gradeBatch({
      roster: roster.entries,
      rosterFile: roster.file,
      ...(template ? { template } : {}),
      outDir,
      concurrency,
      budgetMs: budgetS * 1000,
      force: Boolean(values.force),
      ...(shard ? { shard } : {}),
      lang: l,
      ...(part ? { part } : {}),
      ...(only ? { only } : {}),
      disruptive: Boolean(values.disruptive),
      long: Boolean(values.long),
      acceptNewHostKeys: Boolean(values["accept-new-host-keys"]),
      signal: controller.signal,
      onWarning: (warning, lab) => {
        if (warned.has(warning.en)) return;
        warned.add(warning.en);
        process.stderr.write(`hagrade: ${lab}: ${warning[l]}\n`);
      },
      onLabEnd: (entry, cached) => {
        done++;
        out.write(`${labLine(entry, cached, l, `${done}/${total}`, path.join(outDir, ".journal"))}\n`);
      },
    });
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
  const { summary, files } = await writeClassOutputs(outDir, l);
  out.write(classLines(summary, l) + "\n");
  out.write(`${l === "es" ? "Escrito" : "Written"}: ${files.join(", ")}\n`);
  if (entries.some((e) => e.status === "unreachable" || e.status === "timeout" || e.status === "crashed" || (e.errors ?? 0) > 0 || e.leftToRestore?.length)) return EXIT.infrastructure;
  if (entries.some((e) => e.status === "bad-spec")) return EXIT.badInput;
  return EXIT.ok;
}

function labLine(e: LabEntry, cached: boolean, l: Lang, progress: string, journalDir: string): string {
  const who = safeForTerminal([e.student.id, e.student.name].filter(Boolean).join(" "));
  const mark = e.status === "graded" ? (cached ? "↺" : "✔") : "✘";
  const score = e.status === "graded" ? `${e.score} / ${e.maxScore}` : STATUS_WORDS[l][e.status];
  const why = e.reason ? ` — ${safeForTerminal(e.reason[l]).slice(0, 300)}` : "";
  const when = cached ? (l === "es" ? " (ya evaluada)" : " (already graded)") : ` (${(e.durationMs / 1000).toFixed(1)} s)`;
  const command = `hagrade restore --dir ${shQuote(journalDir)}`;
  const left = e.leftToRestore?.length ? (l === "es" ? ` ¡pendiente de restaurar: ${command}!` : ` left to restore: run ${command}!`) : "";
  return `${mark} [${progress}] ${who}: ${score}${when}${why}${left}`;
}

function classLines(s: ClassSummary, l: Lang): string {
  const hardest = s.items.filter((i) => i.passRate < 1).sort((a, b) => a.passRate - b.passRate).slice(0, 3);
  const statuses = (Object.keys(s.statusCounts) as LabEntry["status"][]).filter((k) => s.statusCounts[k] > 0).map((k) => `${STATUS_WORDS[l][k]}: ${s.statusCounts[k]}`).join(", ");
  const mean = s.scores.meanPercent === null ? "–" : `${s.scores.meanPercent.toFixed(1)} %`;
  const lines = [l === "es" ? `Grupo: ${s.labs.length} prácticas (${statuses}); nota media ${mean}.` : `Class: ${s.labs.length} labs (${statuses}); mean score ${mean}.`];
  if (hardest.length) {
    lines.push(
      (l === "es" ? "Más falladas: " : "Most failed: ") + hardest.map((i) => `${i.id} ${Math.round(i.passRate * 100)} %`).join(", "),
    );
  }
  return lines.join("\n");
}

export const mergeCommand = defineCommand({
  name: "merge",
  summary: "merge the outputs of batch shards into one class",
  usage: ["merge SHARD_DIR... [--out DIR]"],
  positionals: true,
  options: {
    out: { type: "string", arg: "DIR", help: "output folder (default: reports)" },
    lang: { type: "string", arg: "es|en", help: "language of the class outputs (default: es)" },
  },
  examples: ["hagrade merge shard-1 shard-2 shard-3 --out reports"],
  run: merge,
});

async function merge(values: { out?: string; lang?: string }, positionals: string[]): Promise<number> {
  const l = pickLang(values.lang, "es");
  if (positionals.length === 0) throw new UsageError("usage: hagrade merge SHARD_DIR... [--out DIR]");
  const outDir = path.resolve(values.out ?? "reports");
  for (const d of positionals) {
    if (!existsSync(d) || !statSync(d).isDirectory()) throw new UsageError(`${d} is not a folder of hagrade batch results`);
  }
  await mkdir(outDir, { recursive: true });
  const merged = await mergeShards(positionals.map((d) => path.resolve(d)), outDir);
  for (const p of merged.problems) process.stderr.write(`hagrade: ${safeForTerminal(p[l])}\n`);
  if (merged.labs === 0) return EXIT.badInput;
  const { summary, files } = await writeClassOutputs(outDir, l);
  process.stdout.write(classLines(summary, l) + "\n");
  process.stdout.write(`${l === "es" ? "Escrito" : "Written"}: ${files.join(", ")}\n`);
  return merged.problems.length ? EXIT.badInput : EXIT.ok;
}

/**
 * Re-scores a saved result (or every lab of a batch folder) under a new rubric and writes the
 * re-scored reports to --out, leaving the originals as they were.
 */
export const regradeCommand = defineCommand({
  name: "regrade",
  summary: "re-score saved results under a new rubric",
  usage: ["regrade RESULT.json|BATCH_DIR --rubric rubric.yaml [--out DIR]"],
  positionals: true,
  options: {
    rubric: { type: "string", arg: "FILE", help: "the new rubric (points, min-score)  (required)" },
    out: { type: "string", arg: "DIR", help: "output folder (default: next to the input, <input>-regraded or regraded/)" },
    lang: { type: "string", arg: "es|en", help: "language of the reports (default: the result's)" },
  },
  notes: ["The originals are left as they were. Exit code of a single result: 0 at or above the rubric's min-score, else 1."],
  examples: ["hagrade regrade reports/alumno-01/result.json --rubric rubric.yaml", "hagrade regrade reports --rubric rubric.yaml --out reports-2025"],
  run: regrade,
});

async function regrade(values: { rubric?: string; out?: string; lang?: string }, positionals: string[]): Promise<number> {
  if (positionals.length !== 1 || !values.rubric) throw new UsageError("usage: hagrade regrade RESULT.json|BATCH_DIR --rubric rubric.yaml [--out DIR]");
  const input = path.resolve(positionals[0]!);
  if (!existsSync(input)) throw new UsageError(`${input} does not exist`);
  const rubric = await loadRubric(path.resolve(values.rubric));
  const l0 = pickLang(values.lang, "es");
  if (!rubric.ok) {
    process.stderr.write(rubric.problems.map((p) => `✘ ${p.message[l0]}\n  → ${p.fix[l0]}`).join("\n") + "\n");
    return EXIT.badInput;
  }
  const written: string[] = [];
  if (statSync(input).isDirectory()) {
    const outDir = path.resolve(values.out ?? `${input.replace(/[\\/]+$/, "")}-regraded`);
    const labs = await readEntries(input);
    if (labs.length === 0) throw new UsageError(`${input} holds no hagrade batch results`);
    let l: Lang = l0;
    for (const { entry, labDir } of labs) {
      const target = path.join(outDir, entry.lab);
      const result = await readJsonResult(path.join(labDir, "result.json"));
      if (!result) {
        await writeEntry(target, entry);
        continue;
      }
      if (values.lang === undefined) l = result.lang;
      const regraded = regradeResult(result, rubric.rubric);
      written.push(...(await writeRegraded(regraded, target, l)));
      await writeEntry(target, { ...entry, score: regraded.score, maxScore: regraded.maxScore });
    }
    const { summary, files } = await writeClassOutputs(outDir, l);
    process.stdout.write(classLines(summary, l) + "\n");
    process.stdout.write(`${l === "es" ? "Escrito" : "Written"}: ${path.join(outDir, "*")}, ${files.join(", ")}\n`);
    return EXIT.ok;
  }
  const result = await readJsonResult(input);
  if (!result) throw new UsageError(`${input}: not a hagrade result (schemaVersion 1 expected)`);
  const l = values.lang === undefined ? result.lang : l0;
  const regraded = regradeResult(result, rubric.rubric);
  const outDir = path.resolve(values.out ?? path.join(path.dirname(input), "regraded"));
  written.push(...(await writeRegraded(regraded, outDir, l)));
  process.stdout.write(`${regraded.lab}: ${result.score} / ${result.maxScore} → ${regraded.score} / ${regraded.maxScore}\n`);
  process.stdout.write(`${l === "es" ? "Escrito" : "Written"}: ${written.join(", ")}\n`);
  const min = rubric.rubric.minScore ?? regraded.maxScore;
  return regraded.score + 1e-9 >= min ? EXIT.ok : EXIT.studentFault;
}

async function readJsonResult(file: string): Promise<RunResult | undefined> {
  try {
    const r = JSON.parse(await readFile(file, "utf8")) as RunResult;
    return r?.schemaVersion === 1 && Array.isArray(r.checks) ? upgradeRunResult(r) : undefined;
  } catch {
    return undefined;
  }
}

async function writeRegraded(result: RunResult, dir: string, l: Lang): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const out: string[] = [];
  for (const r of [
    jsonReporter(path.join(dir, "result.json")),
    junitReporter(path.join(dir, "junit.xml"), { lang: l }),
    htmlReporter(path.join(dir, "scorecard.html"), { lang: l }),
    gradescopeReporter(path.join(dir, "results.json"), { lang: l }),
  ]) {
    out.push(...((await r.onEnd?.(result)) ?? []));
  }
  return out;
}

/** The template's data as written (YAML or JSON), for a look at its fields; undefined if unreadable. */
async function readSpecData(file: string): Promise<unknown> {
  try {
    return parseYaml(await readFile(file, "utf8")) as unknown;
  } catch {
    return undefined;
  }
}
