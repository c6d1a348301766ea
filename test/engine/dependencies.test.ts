/**
 * The layering of the engine, read from the sources themselves: src/model (the result
 * vocabulary) imports nothing of the project, and no folder of src/ (nor checks/) imports a
 * folder that imports it back, directly or around a longer loop. Files directly in src/ (the
 * CLI's entry points) are the edge: no folder may import them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

interface ImportEdge {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

/** Every relative import (static, re-export or dynamic) of a file, as absolute .ts paths. */
export function relativeImports(file: string, source: string): string[] {
  const specifiers = [
    ...source.matchAll(/\b(?:import|export)\s[^;]*?\bfrom\s+["']([^"']+)["']/g),
    ...source.matchAll(/\bimport\s*\(\s*["']([^"']+)["']\s*\)/g),
    ...source.matchAll(/^\s*import\s+["']([^"']+)["']/gm),
  ].map((m) => m[1] ?? "");
  return specifiers.filter((s) => s.startsWith(".")).map((s) => resolve(dirname(file), s).replace(/\.js$/, ".ts"));
}

/** src/<folder>, "src" for the entry files directly in src/, or the top folder (checks). */
export function folderOf(file: string): string {
  const parts = relative(ROOT, file).split(sep);
  if (parts[0] === "src") return parts.length > 2 ? `src/${parts[1]}` : "src";
  return parts[0] ?? "";
}

function importEdges(): ImportEdge[] {
  const files = [...sourceFiles(join(ROOT, "src")), ...sourceFiles(join(ROOT, "checks"))];
  return files.flatMap((file) => relativeImports(file, readFileSync(file, "utf8")).map((to) => ({ from: file, to })));
}

/** The strongly connected components of more than one folder (Tarjan): each is an import loop. */
export function folderLoops(graph: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const loops: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) loops.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return loops;
}

describe("the engine's layering", () => {
  const edges = importEdges();
  const crossing = edges.filter((e) => folderOf(e.from) !== folderOf(e.to));
  const graph = new Map<string, Set<string>>();
  for (const e of crossing) {
    const a = folderOf(e.from);
    if (!graph.has(a)) graph.set(a, new Set());
    graph.get(a)!.add(folderOf(e.to));
  }
  const show = (list: ImportEdge[]) => list.map((e) => `${relative(ROOT, e.from)} -> ${relative(ROOT, e.to)}`);

  it("reads the imports it judges (the scan is not empty)", () => {
    expect(crossing.length).toBeGreaterThan(50);
    expect(graph.get("src/runner")?.has("src/model")).toBe(true);
  });

  it("src/model imports nothing of the project", () => {
    expect(show(crossing.filter((e) => folderOf(e.from) === "src/model"))).toEqual([]);
  });

  it("no folder imports a folder that imports it back", () => {
    const loops = folderLoops(graph);
    const witnesses = loops.map((loop) => show(crossing.filter((e) => loop.includes(folderOf(e.from)) && loop.includes(folderOf(e.to)))).slice(0, 8));
    expect({ loops, witnesses }).toEqual({ loops: [], witnesses: [] });
  });

  it("no folder imports the CLI's entry files in src/", () => {
    expect(show(crossing.filter((e) => folderOf(e.to) === "src"))).toEqual([]);
  });

  it("finds a loop when there is one (the detector itself)", () => {
    const g = new Map([
      ["a", new Set(["b"])],
      ["b", new Set(["c"])],
      ["c", new Set(["a"])],
      ["d", new Set(["a"])],
    ]);
    expect(folderLoops(g)).toEqual([["a", "b", "c"]]);
    expect(folderLoops(new Map([["a", new Set(["b"])]]))).toEqual([]);
    expect(relativeImports("/x/src/a.ts", 'import type { T } from "../model/index.js";\nconst m = await import("./lazy.js");\nexport * from "./b.js";')).toEqual([
      "/x/model/index.ts",
      "/x/src/b.ts",
      "/x/src/lazy.ts",
    ]);
  });
});
