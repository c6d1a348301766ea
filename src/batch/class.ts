/**
 * The class outputs (`<out>/class/`): summary.json, gradebook.csv, index.html and junit.xml,
 * all derived from the lab folders under `<out>`. Merging shards copies their lab folders into
 * one `<out>` and derives the same outputs, as one unsharded run would (Playwright's
 * `--shard` + `merge-reports`).
 */
import { cp, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { renderClassHtml } from "../report/class-html.js";
import { renderGradebook } from "../report/gradebook.js";
import { renderClassJunit } from "../report/junit.js";
import type { Lang, RunResult, Text } from "../model/index.js";
import { readEntries, readResult, type LabEntry } from "./entry.js";
import { summarizeClass, type ClassSummary } from "./summary.js";

export const CLASS_DIR = "class";

export async function collectLabs(outDir: string): Promise<{ entry: LabEntry; result?: RunResult; labDir: string }[]> {
  const found = await readEntries(outDir);
  return Promise.all(
    found.map(async ({ entry, labDir }) => {
      const result = entry.status === "graded" || entry.status === "timeout" ? await readResult(labDir) : undefined;
      return { entry, labDir, ...(result ? { result } : {}) };
    }),
  );
}

export async function writeClassOutputs(outDir: string, lang: Lang): Promise<{ summary: ClassSummary; files: string[] }> {
  const labs = await collectLabs(outDir);
  const summary = summarizeClass(labs);
  const dir = path.join(outDir, CLASS_DIR);
  await mkdir(dir, { recursive: true });
  const files = {
    summary: path.join(dir, "summary.json"),
    gradebook: path.join(dir, "gradebook.csv"),
    html: path.join(dir, "index.html"),
    junit: path.join(dir, "junit.xml"),
  };
  await writeFile(files.summary, JSON.stringify(summary, null, 2) + "\n", "utf8");
  await writeFile(files.gradebook, renderGradebook(summary, lang), "utf8");
  await writeFile(files.html, renderClassHtml(summary, lang, new Date().toISOString()), "utf8");
  await writeFile(
    files.junit,
    renderClassJunit(
      labs.map(({ entry, result }) => ({ lab: entry.lab, student: entry.student, status: entry.status, ...(entry.reason ? { reason: entry.reason } : {}), ...(result ? { result } : {}) })),
      lang,
    ),
    "utf8",
  );
  return { summary, files: Object.values(files) };
}

export type MergeProblem = Text;

/**
 * Copies the lab folders of each shard's output into `outDir`. The same lab in two shards is a
 * mistake (overlapping shards or a re-used folder) unless both copies are the same attempt.
 */
export async function mergeShards(dirs: string[], outDir: string): Promise<{ labs: number; problems: MergeProblem[] }> {
  const seen = new Map<string, { dir: string; key: string; startedAt: string }>();
  const problems: MergeProblem[] = [];
  let labs = 0;
  for (const dir of dirs) {
    const found = await readEntries(dir);
    if (found.length === 0) {
      problems.push({ es: `${dir} no contiene resultados de hagrade batch.`, en: `${dir} holds no hagrade batch results.` });
      continue;
    }
    for (const { entry, labDir } of found) {
      const before = seen.get(entry.lab);
      if (before && (before.key !== entry.key || before.startedAt !== entry.startedAt)) {
        problems.push({
          es: `El laboratorio ${entry.lab} está en ${before.dir} y en ${dir} con resultados distintos: se usa el de ${before.dir}.`,
          en: `Lab ${entry.lab} is in both ${before.dir} and ${dir} with different results: the one in ${before.dir} is kept.`,
        });
        continue;
      }
      seen.set(entry.lab, { dir, key: entry.key, startedAt: entry.startedAt });
      const target = path.join(outDir, entry.lab);
      if (path.resolve(target) !== path.resolve(labDir)) await cp(labDir, target, { recursive: true, force: true });
      labs++;
    }
  }
  return { labs, problems };
}
