/**
 * Grades a class: every roster row becomes a spec (template + the row's fields), labs are graded
 * side by side up to a bound, each inside its own time budget, and one lab's hang, crash or dead
 * SSH never stops the others. Each lab's outputs go to `<out>/<lab>/`; a re-run skips labs whose
 * spec and options have not changed since they were graded (unless forced).
 */
import path from "node:path";
import { ALL_CHECKS, RUBRIC } from "../../checks/index.js";
import { loadSpec, type SpecLoadResult } from "../config/load.js";
import { SecretRegistry, SHORT_SECRET_WARNING } from "../config/secrets.js";
import { htmlReporter } from "../report/html.js";
import { jsonReporter } from "../report/json.js";
import { junitReporter } from "../report/junit.js";
import { gradescopeReporter } from "../report/gradescope.js";
import type { Reporter } from "../report/reporter.js";
import { gradeLab, type GradeOptions } from "../runner/grade.js";
import type { Lang, PartOption, RunResult, Text } from "../model/index.js";
import { listPendingJournals } from "../ssh/index.js";
import { VERSION } from "../model/index.js";
import { defaultConcurrency } from "./concurrency.js";
import { cacheKey, readEntry, readResult, writeEntry, type LabEntry, type LabStatus } from "./entry.js";
import { preflight } from "./preflight.js";
import type { RosterEntry } from "./roster.js";

export interface Shard {
  /** 1-based. */
  index: number;
  total: number;
}

export interface BatchOptions {
  roster: RosterEntry[];
  /** The roster's file, named in restore journals so `hagrade restore` can rebuild a row's spec. */
  rosterFile?: string;
  /** The course's spec template (absolute path); rows with their own `spec` file use that instead. */
  template?: string;
  outDir: string;
  concurrency?: number;
  /** Per-lab budget (ms); past it the lab's run is cut short, restoring what it changed. */
  budgetMs?: number;
  force?: boolean;
  shard?: Shard;
  lang: Lang;
  part?: PartOption;
  only?: string[];
  disruptive?: boolean;
  long?: boolean;
  acceptNewHostKeys?: boolean;
  /** Told about each lab as it starts and ends (the console's progress lines). */
  onLabStart?(entry: RosterEntry): void;
  onLabEnd?(entry: LabEntry, cached: boolean): void;
  /** Told about something the teacher should change (a secret too short to redact from reports). */
  onWarning?(warning: Text, lab: string): void;
  /** Aborting it stops starting new labs and cuts running ones short (Ctrl-C). */
  signal?: AbortSignal;
}

export const DEFAULT_BUDGET_MS = 10 * 60_000;
/** After the budget, how long a lab's run may take to wind down (restores) before it is abandoned. */
const WIND_DOWN_MS = 90_000;

/** The roster rows of one shard: every n-th row, so slow and fast labs spread evenly. */
export function shardOf<T extends { index: number }>(rows: T[], shard?: Shard): T[] {
  if (!shard) return rows;
  return rows.filter((r) => r.index % shard.total === shard.index - 1);
}

export function parseShard(text: string): Shard | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const index = Number(m[1]);
  const total = Number(m[2]);
  return total >= 1 && index >= 1 && index <= total ? { index, total } : undefined;
}

export async function gradeBatch(options: BatchOptions): Promise<LabEntry[]> {
  const rows = shardOf(options.roster, options.shard);
  const concurrency = Math.max(1, options.concurrency ?? defaultConcurrency());
  const entries: LabEntry[] = new Array<LabEntry>(rows.length);
  let next = 0;
  const worker = async () => {
    while (next < rows.length && !options.signal?.aborted) {
      const i = next++;
      const row = rows[i]!;
      options.onLabStart?.(row);
      const { entry, cached } = await gradeOne(row, options);
      entries[i] = entry;
      options.onLabEnd?.(entry, cached);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, worker));
  return entries.filter(Boolean);
}

async function gradeOne(row: RosterEntry, options: BatchOptions): Promise<{ entry: LabEntry; cached: boolean }> {
  const labDir = path.join(options.outDir, row.lab);
  const started = new Date();
  const student = { id: row.id, ...(row.name ? { name: row.name } : {}), ...(row.email ? { email: row.email } : {}) };
  const base = { schemaVersion: 1 as const, index: row.index, lab: row.lab, student, startedAt: started.toISOString() };
  const finish = async (status: LabStatus, key: string, extra: Partial<LabEntry> = {}): Promise<{ entry: LabEntry; cached: boolean }> => {
    const entry: LabEntry = { ...base, status, key, ...extra, durationMs: Date.now() - started.getTime() };
    await writeEntry(labDir, entry);
    return { entry, cached: false };
  };

  let loaded: SpecLoadResult;
  try {
    const checkIds = ALL_CHECKS.map((c) => c.id);
    loaded = row.specFile
      ? await loadSpec(row.specFile, { lab: row.lab, student }, { checkIds })
      : options.template
        ? await loadSpec(options.template, row.overrides, { checkIds })
        : { ok: false, warnings: [], problems: [{ path: "", message: { es: "Falta la plantilla del spec.", en: "The spec template is missing." }, fix: { es: "Indique --spec-template o una columna spec.", en: "Give --spec-template or a spec column." } }] };
  } catch (error) {
    loaded = { ok: false, warnings: [], problems: [{ path: "", message: { es: String(error), en: String(error) }, fix: { es: "Revise la fila.", en: "Check the row." } }] };
  }
  const gradeSettings = {
    part: options.part ?? null,
    only: options.only ?? null,
    disruptive: Boolean(options.disruptive),
    long: Boolean(options.long),
    lang: options.lang,
    version: VERSION,
  };
  if (!loaded.ok) {
    const lines = (lang: Lang) => loaded.problems.map((p) => `${p.path ? `${p.path}: ` : ""}${p.message[lang]} → ${p.fix[lang]}`).join(" · ");
    return finish("bad-spec", cacheKey({ row, gradeSettings }), { reason: { es: `Fila ${row.row}: ${lines("es")}`, en: `Row ${row.row}: ${lines("en")}` } });
  }
  const spec = loaded.spec;
  const key = cacheKey({ spec, gradeSettings });

  if (!options.force) {
    const previous = await readEntry(labDir);
    if (previous && previous.key === key && previous.status === "graded" && (await readResult(labDir))) {
      return { entry: { ...previous, index: row.index }, cached: true };
    }
  }

  const budgetMs = options.budgetMs ?? DEFAULT_BUDGET_MS;
  const budget = new AbortController();
  const onOuterAbort = () => budget.abort();
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  const timer = setTimeout(() => budget.abort(), budgetMs);
  try {
    const reach = await preflight(spec, budget.signal);
    if (!reach.ok) return await finish("unreachable", key, { reason: reach.reason });

    const secrets = new SecretRegistry();
    const redact = (t: string) => secrets.redact(t);
    // gradeLab fires the run's end, and the reporters write the lab's files then; a run abandoned
    // past its wind-down must not write them later, over the entry that says it was abandoned.
    let abandonedRun = false;
    const reporters: Reporter[] = [
      jsonReporter(path.join(labDir, "result.json"), redact),
      junitReporter(path.join(labDir, "junit.xml"), { lang: options.lang, redact }),
      htmlReporter(path.join(labDir, "scorecard.html"), { lang: options.lang, redact }),
      gradescopeReporter(path.join(labDir, "results.json"), { lang: options.lang, redact }),
    ].map((r) => ({ onEnd: (result: RunResult) => (abandonedRun ? [] : r.onEnd?.(result)) }));
    const journalDir = path.join(options.outDir, ".journal");
    const gradeOptions: GradeOptions = {
      rubric: RUBRIC,
      lang: options.lang,
      disruptive: Boolean(options.disruptive),
      long: Boolean(options.long),
      interactive: false,
      acceptNewHostKeys: Boolean(options.acceptNewHostKeys),
      journalDir,
      ...(row.specFile ? { specPath: row.specFile } : options.template ? { specPath: options.template, ...(options.rosterFile ? { rosterPath: options.rosterFile } : {}) } : {}),
      ...(options.part ? { part: options.part } : {}),
      ...(options.only?.length ? { only: options.only } : {}),
      reporters,
      secrets,
      signal: budget.signal,
    };
    // The lab's run winds down by itself once its budget aborts; if even that hangs, it is abandoned.
    let abandon: NodeJS.Timeout | undefined;
    const abandoned = new Promise<"abandoned">((resolve) => {
      budget.signal.addEventListener("abort", () => (abandon = setTimeout(() => resolve("abandoned"), WIND_DOWN_MS)), { once: true });
    });
    let result: RunResult | "abandoned";
    try {
      result = await Promise.race([gradeLab(spec, gradeOptions), abandoned]);
    } finally {
      clearTimeout(abandon);
    }
    if (secrets.tooShort > 0) options.onWarning?.(SHORT_SECRET_WARNING, row.lab);
    if (result === "abandoned") {
      abandonedRun = true;
      return await finish("timeout", key, {
        reason: { es: `La evaluación no terminó ni tras agotar su tiempo (${budgetMs / 1000} s): abandonada.`, en: `Grading did not end even after its time ran out (${budgetMs / 1000} s): abandoned.` },
        ...leftToRestore(journalDir, row.lab),
      });
    }
    const timedOut = budget.signal.aborted && !options.signal?.aborted;
    const interrupted = options.signal?.aborted;
    return await finish(timedOut || interrupted ? "timeout" : "graded", key, {
      score: result.score,
      maxScore: result.maxScore,
      errors: result.counts.error,
      ...(timedOut
        ? { reason: { es: `Se agotó el tiempo de este laboratorio (${budgetMs / 1000} s); resultado parcial.`, en: `This lab's time ran out (${budgetMs / 1000} s); partial result.` } }
        : interrupted
          ? { reason: { es: "Evaluación interrumpida.", en: "Grading interrupted." } }
          : {}),
      ...leftToRestore(journalDir, row.lab),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return await finish("crashed", key, { reason: { es: `Error del evaluador: ${message}`, en: `Grader error: ${message}` } satisfies Text });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
}

function leftToRestore(journalDir: string, lab: string): Partial<LabEntry> {
  const pending = listPendingJournals(journalDir).filter((j) => j.lab === lab && !j.writerAlive);
  return pending.length ? { leftToRestore: pending.map((j) => j.file) } : {};
}
