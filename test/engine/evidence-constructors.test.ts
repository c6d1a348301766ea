/**
 * Evidence is made only by its constructor (src/model/evidence.ts `ev`): an object literal with
 * the kind of an evidence anywhere else in the grader (src/, checks/) fails here, so no check can
 * build a shape of its own that a reporter would have to guess at.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { EVIDENCE_TITLES } from "../../src/report/evidence-words.js";

const root = join(import.meta.dirname, "..", "..");
const KINDS = new Set(Object.keys(EVIDENCE_TITLES));
/** Where evidence types, constructors and the reading of old results live. */
const ALLOWED = ["src/model/"];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** `{ kind: "<evidence kind>", … }` literals of a file, as "file:line kind". */
function handBuilt(file: string, text = readFileSync(file, "utf8")): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isObjectLiteralExpression(node)) {
      for (const property of node.properties) {
        if (
          ts.isPropertyAssignment(property) &&
          property.name.getText(source) === "kind" &&
          ts.isStringLiteralLike(property.initializer) &&
          KINDS.has(property.initializer.text)
        ) {
          const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
          found.push(`${relative(root, file)}:${line + 1} ${property.initializer.text}`);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("evidence", () => {
  it("is built only by its constructors, never as an object literal in src/ or checks/", () => {
    const files = [...sources(join(root, "src")), ...sources(join(root, "checks"))].filter((f) => !ALLOWED.some((a) => relative(root, f).startsWith(a)));
    expect(files.length).toBeGreaterThan(50);
    expect(files.flatMap((f) => handBuilt(f))).toEqual([]);
  });

  it("the scan finds a hand-built literal, and not a constructor call", () => {
    const file = join(root, "checks", "net", "example.ts");
    expect(handBuilt(file, 'const e = [{ kind: "nat-rules", rules: [], uncovered: [] }];\nconst f = { kind: "change-failed" };')).toEqual(["checks/net/example.ts:1 nat-rules"]);
    expect(handBuilt(file, 'const e = [ev.natRules({ rules: [], uncovered: [] })];')).toEqual([]);
  });
});
