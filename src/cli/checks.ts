/**
 * `hagrade checks`: every check of the rubric (id, part, points, what it needs, title) in the
 * chosen language, and the check ids `--only` accepts, with a did-you-mean for a typo.
 */
import { ALL_CHECKS, checksForPart } from "../../checks/index.js";
import { safeForTerminal } from "../report/terminal.js";
import { EXIT } from "./exit.js";
import { UsageError, pickLang, pickPart } from "./args.js";
import { defineCommand } from "./command.js";

export const checksCommand = defineCommand({
  name: "checks",
  summary: "list every check: id, part, points, needs, title",
  usage: ["checks [--part lvs|proxy] [--lang es|en] [--json]"],
  options: {
    part: { type: "string", arg: "lvs|proxy", help: "only the checks that grade this part (the network checks grade both)" },
    lang: { type: "string", arg: "es|en", help: "language of the titles (default: es)" },
    json: { type: "boolean", default: false, help: "print them as JSON (id, part, points, needs, dependsOn, title)" },
  },
  examples: ["hagrade checks --lang en", "hagrade checks --part proxy --json"],
  async run(values) {
    const lang = pickLang(values.lang, "es");
    const part = pickPart(values.part);
    if (part === "auto") throw new UsageError("--part must be lvs or proxy here (auto needs a lab to look at)");
    const checks = part ? checksForPart(part) : ALL_CHECKS;
    if (values.json) {
      const list = checks.map((c) => ({ id: c.id, part: c.part, points: c.points, needs: c.needs, dependsOn: c.dependsOn ?? [], title: c.title[lang] }));
      process.stdout.write(JSON.stringify(list, null, 2) + "\n");
      return EXIT.ok;
    }
    const head = lang === "es" ? ["ID", "PARTE", "PUNTOS", "NECESITA", "TÍTULO"] : ["ID", "PART", "POINTS", "NEEDS", "TITLE"];
    const rows = checks.map((c) => [c.id, c.part, String(c.points), c.needs.join(","), safeForTerminal(c.title[lang])]);
    const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)) + 2);
    const line = (cells: string[]) => cells.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell)).join("").trimEnd();
    const sum = (list: readonly { points: number }[]) => list.reduce((total, c) => total + c.points, 0);
    const parts = (part ? [part] : (["lvs", "proxy"] as const)).map((p) => ({ p, list: checksForPart(p) }));
    const totals = parts.map(({ p, list }) =>
      lang === "es"
        ? `parte ${p === "lvs" ? "1 (lvs)" : "2 (proxy)"}: ${list.length} comprobaciones, ${sum(list)} puntos`
        : `part ${p === "lvs" ? "1 (lvs)" : "2 (proxy)"}: ${list.length} checks, ${sum(list)} points`,
    );
    const legend =
      lang === "es"
        ? [
            "ssh: necesita acceso SSH en el fichero de laboratorio. ssh-if-given: lee el balanceador si hay SSH; sin él, juzga solo por HTTP.",
            "disruptive: solo con --disruptive.",
            "may-disrupt: su mitad disruptiva solo con --disruptive. long: solo con --long.",
            "Las comprobaciones que no se piden no cuentan en la nota máxima.",
          ]
        : [
            "ssh: needs SSH access in the lab spec. ssh-if-given: reads the balancer when SSH is given; without it, judges from HTTP alone.",
            "disruptive: only with --disruptive.",
            "may-disrupt: its disruptive half only with --disruptive. long: only with --long.",
            "Checks not asked for do not count in the maximum score.",
          ];
    process.stdout.write([line(head), ...rows.map(line), "", `${totals.join("; ")}.`, ...legend, ""].join("\n"));
    return EXIT.ok;
  },
});

/** The ids of `--only ID,ID`, each one a check of the rubric; a typo is a UsageError with a did-you-mean. */
export function parseOnly(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const ids = value.split(",").map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) throw new UsageError("--only needs at least one check id (see `hagrade checks`)");
  const known = ALL_CHECKS.map((c) => c.id);
  for (const id of ids) {
    if (known.includes(id)) continue;
    const near = didYouMean(id, known);
    throw new UsageError(`--only: unknown check "${id}"${near.length ? ` (did you mean ${near.join(" or ")}?)` : ""}; \`hagrade checks\` lists them`);
  }
  return ids;
}

/** The known words closest to a typo (edit distance, or the same name under another part). */
export function didYouMean(word: string, known: readonly string[]): string[] {
  const w = word.toLowerCase();
  const scored = known.map((k) => {
    const name = k.slice(k.indexOf(".") + 1);
    return { k, d: Math.min(editDistance(w, k.toLowerCase()), editDistance(w, name.toLowerCase()) + 1) };
  });
  const best = Math.min(...scored.map((s) => s.d));
  const limit = Math.max(2, Math.floor(w.length / 4));
  return best > limit ? [] : scored.filter((s) => s.d === best).map((s) => s.k).slice(0, 3);
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
