/**
 * Re-scoring saved results under a new rubric, without the lab: each check keeps its outcome,
 * evidence and earned fraction (credit); only the points change.
 */
import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ALL_CHECKS } from "../../checks/index.js";
import { closestName } from "../config/problems.js";
import { summarize } from "../runner/runner.js";
import type { RunResult, Text } from "../model/index.js";

export interface Rubric {
  points: Record<string, number>;
  minScore?: number;
}

const rubricSchema = z
  .object({
    points: z.record(z.string(), z.number().min(0).max(100)).default({}),
    minScore: z.number().min(0).optional(),
  })
  .strict();

export type RubricLoad = { ok: true; rubric: Rubric } | { ok: false; problems: { message: Text; fix: Text }[] };

/** A rubric file: `points: { check.id: n }` and optionally `minScore`, YAML or JSON. */
export async function loadRubric(file: string): Promise<RubricLoad> {
  let raw: unknown;
  try {
    raw = parseYaml(await readFile(file, "utf8"), { maxAliasCount: 100, uniqueKeys: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code ? `(${code})` : `: ${(error as Error).message.split("\n")[0]}`;
    return { ok: false, problems: [{ message: { es: `No se puede leer la rúbrica ${file} ${what}`, en: `Cannot read rubric ${file} ${what}` }, fix: { es: "Indique un YAML con points: { net.vip-http: 2, ... }.", en: "Give a YAML with points: { net.vip-http: 2, ... }." } }] };
  }
  // A spec's rubric block works as it is, or a file with just the block.
  const body = raw && typeof raw === "object" && "rubric" in raw ? (raw as { rubric: unknown }).rubric : raw;
  const parsed = rubricSchema.safeParse(body ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => {
        const field = i.path.join(".") || "rubric";
        return {
          message: { es: `${field}: ${i.message}`, en: `${field}: ${i.message}` },
          fix: { es: "points es un mapa id de comprobación → puntos (0..100); minScore un número.", en: "points maps a check id to points (0..100); minScore is a number." },
        };
      }),
    };
  }
  const known = ALL_CHECKS.map((c) => c.id);
  const unknown = Object.keys(parsed.data.points).filter((id) => !known.includes(id));
  if (unknown.length) {
    return {
      ok: false,
      problems: unknown.map((id) => {
        const near = closestName(id, known);
        return {
          message: { es: `points.${id}: no es una comprobación de hagrade.`, en: `points.${id}: not a hagrade check.` },
          fix: near ? { es: `¿Quería decir ${near}?`, en: `Did you mean ${near}?` } : { es: `Ids válidos: ${known.join(", ")}.`, en: `Valid ids: ${known.join(", ")}.` },
        };
      }),
    };
  }
  return { ok: true, rubric: { points: parsed.data.points, ...(parsed.data.minScore !== undefined ? { minScore: parsed.data.minScore } : {}) } };
}

export function regradeResult(result: RunResult, rubric: Rubric): RunResult {
  const checks = result.checks.map((c) => {
    if (c.notRequested) return c;
    const maxPoints = rubric.points[c.id] ?? c.maxPoints;
    const credit = c.credit ?? (c.maxPoints > 0 ? c.points / c.maxPoints : c.outcome === "pass" ? 1 : 0);
    // Results saved before partial credit became a fail may hold a pass with part of the points.
    const outcome = c.outcome === "pass" && credit < 1 ? "fail" : c.outcome;
    return { ...c, outcome, maxPoints, points: Math.round(maxPoints * credit * 100) / 100 };
  });
  const { score, maxScore, counts } = summarize(checks);
  return {
    ...result,
    score,
    maxScore,
    counts,
    checks,
    notes: [
      ...result.notes,
      { es: `Puntuación recalculada con otra rúbrica (antes ${result.score} / ${result.maxScore}).`, en: `Score recomputed under another rubric (before: ${result.score} / ${result.maxScore}).` },
    ],
  };
}
