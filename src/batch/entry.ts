/**
 * What a batch records per lab, next to the lab's own reports (`<out>/<lab>/batch.json`): the
 * status of the attempt and the cache key that lets a re-run skip it. The class outputs are
 * built only from these files and the labs' `result.json`, so shards merge by copying folders.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { upgradeRunResult, type LabStatus, type RunResult, type Text } from "../model/index.js";

export type { LabStatus } from "../model/index.js";


export interface LabEntry {
  schemaVersion: 1;
  index: number;
  lab: string;
  student: { id: string; name?: string; email?: string };
  status: LabStatus;
  /** Hash of the resolved spec, the grading options and the tool version. */
  key: string;
  score?: number;
  maxScore?: number;
  /** Checks whose outcome was `error`: the grader's trouble, worth a re-run. */
  errors?: number;
  reason?: Text;
  /** Journals of this lab that still have something to restore by hand. */
  leftToRestore?: string[];
  startedAt: string;
  durationMs: number;
}

export const ENTRY_FILE = "batch.json";
export const RESULT_FILE = "result.json";

export function cacheKey(parts: unknown): string {
  return createHash("sha256").update(stableJson(parts)).digest("hex").slice(0, 32);
}

/** JSON with object keys sorted, so the same spec always hashes the same. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export async function readEntry(labDir: string): Promise<LabEntry | undefined> {
  try {
    const entry = JSON.parse(await readFile(path.join(labDir, ENTRY_FILE), "utf8")) as LabEntry;
    return entry?.schemaVersion === 1 && typeof entry.lab === "string" ? entry : undefined;
  } catch {
    return undefined;
  }
}

export async function writeEntry(labDir: string, entry: LabEntry): Promise<void> {
  await mkdir(labDir, { recursive: true });
  await writeFile(path.join(labDir, ENTRY_FILE), JSON.stringify(entry, null, 2) + "\n", "utf8");
}

export async function readResult(labDir: string): Promise<RunResult | undefined> {
  const file = path.join(labDir, RESULT_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const result = JSON.parse(await readFile(file, "utf8")) as RunResult;
    return result?.schemaVersion === 1 && Array.isArray(result.checks) ? upgradeRunResult(result) : undefined;
  } catch {
    return undefined;
  }
}

/** Every lab folder under `dir` that has a batch entry, in roster order. */
export async function readEntries(dir: string): Promise<{ entry: LabEntry; labDir: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const out: { entry: LabEntry; labDir: string }[] = [];
  for (const name of names) {
    if (name === "class" || name.startsWith(".")) continue;
    const labDir = path.join(dir, name);
    const entry = await readEntry(labDir);
    if (entry) out.push({ entry, labDir });
  }
  return out.sort((a, b) => a.entry.index - b.entry.index || a.entry.lab.localeCompare(b.entry.lab));
}
