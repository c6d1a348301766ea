/**
 * TAP version 14 (testanything.org): one test point per check, a YAML block with its outcome,
 * points, message, fix and evidence (each kind through its text renderer) when it did not pass;
 * skipped checks carry `# SKIP` and their reason.
 * `inconclusive` and `error` are `not ok`: a TAP consumer must not count them as passes.
 */
import { stringify } from "yaml";
import type { CheckResult, Lang, RunResult } from "../model/index.js";
import type { FileReporterOptions } from "./junit.js";
import type { Reporter } from "./reporter.js";
import { writeReport } from "./output.js";
import { SUMMARY_WORDS } from "./overview.js";
import { checkEvidenceLines } from "./evidence-text.js";

/** A TAP consumer shows the YAML block inline: the evidence stays a few lines (the HTML has the rest). */
const EVIDENCE_LIMITS = { maxLines: 12, maxChars: 300 };

export function tapReporter(path: string, options: FileReporterOptions): Reporter {
  return {
    onEnd: (result: RunResult) => writeReport(path, renderTap(result, options)),
  };
}

export function renderTap(result: RunResult, { lang, redact = (t) => t, since }: FileReporterOptions): string {
  const s = SUMMARY_WORDS[lang];
  const lines = ["TAP version 14", `1..${result.checks.length}`];
  result.checks.forEach((c, i) => lines.push(...point(c, i + 1, lang, redact)));
  lines.push(`# ${s.score}: ${result.score}/${result.maxScore}`);
  if (since) {
    lines.push(`# ${s.since} ${oneLine(since.file)} (${since.score}/${since.maxScore}):`);
    if (since.changes.length === 0) lines.push(`#   ${s.noChange}`);
    for (const ch of since.changes) {
      const from = ch.before ? `${ch.before.outcome} ${ch.before.points}/${ch.before.maxPoints}` : s.notGraded;
      const to = ch.after ? `${ch.after.outcome} ${ch.after.points}/${ch.after.maxPoints}` : s.notGraded;
      lines.push(`#   ${ch.id}: ${from} -> ${to}`);
    }
  }
  return redact(lines.join("\n")) + "\n";
}

function point(c: CheckResult, n: number, lang: Lang, redact: (t: string) => string): string[] {
  const description = `${c.id} - ${oneLine(redact(c.title[lang]))}`;
  if (c.outcome === "pass") return [`ok ${n} - ${description}`];
  if (c.outcome === "skipped") return [`ok ${n} - ${description} # SKIP ${oneLine(redact(c.message[lang]))}`];
  const evidence = checkEvidenceLines(c, lang, EVIDENCE_LIMITS).map(redact);
  const diagnostics = {
    outcome: c.outcome,
    points: c.points,
    maxPoints: c.maxPoints,
    message: redact(c.message[lang]),
    ...(c.fix ? { fix: redact(c.fix[lang]) } : {}),
    ...(evidence.length ? { evidence } : {}),
  };
  const yaml = stringify(diagnostics, { lineWidth: 0 }).trimEnd().split("\n").map((l) => `  ${l}`);
  return [`not ok ${n} - ${description}`, "  ---", ...yaml, "  ..."];
}

/** A TAP line must stay one line, and `#` would start a directive. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").replace(/#/g, "\\#").trim();
}
