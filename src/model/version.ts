import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** hagrade's own folder (the checkout, or the installed package) and its version, read once from package.json. */
function readPackage(): { root?: string; version: string } {
  // From src/model (tsx) or dist/src/model (built).
  for (const rel of ["../../", "../../../"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${rel}package.json`, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "hagrade" && pkg.version) return { root: fileURLToPath(new URL(rel, import.meta.url)), version: pkg.version };
    } catch {
      // try the next candidate
    }
  }
  return { version: "0.0.0" };
}

const PACKAGE = readPackage();

export const VERSION = PACKAGE.version;

/**
 * The reference of every spec field, where this copy of hagrade has it: the package ships
 * docs/spec.md, so the path a starter spec names exists on the teacher's machine too.
 */
export const SPEC_REFERENCE = PACKAGE.root ? `${PACKAGE.root}docs/spec.md` : "docs/spec.md";
