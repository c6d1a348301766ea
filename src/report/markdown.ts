/**
 * A Markdown summary for a CI job's page (`$GITHUB_STEP_SUMMARY`, a GitLab merge request note):
 * the score, the counts that are not zero, what to fix next, the overview with failures first,
 * the evidence of each check that did not pass (each kind through its text renderer), and what
 * changed since an earlier result. Text from the lab is escaped: GitHub renders HTML in
 * a summary, and a page served by a student's lab must stay text.
 */
import type { Outcome, RunResult } from "../model/index.js";
import type { FileReporterOptions } from "./junit.js";
import type { Reporter } from "./reporter.js";
import { WORDS } from "./i18n.js";
import { writeReport } from "./output.js";
import { checkEvidenceLines } from "./evidence-text.js";
import { fixNext, oneLine, outcomeCount, overviewRows, shownCounts, SUMMARY_WORDS, type CheckState } from "./overview.js";

/** A job summary is read on one page: a few lines per check (the HTML has the rest). */
const EVIDENCE_LIMITS = { maxLines: 8, maxChars: 240 };

const MARK: Record<Outcome, string> = { pass: "✅", fail: "❌", inconclusive: "❔", error: "⚠️", skipped: "⏭️" };

export function markdownReporter(path: string, options: FileReporterOptions): Reporter {
  return {
    onEnd: (result: RunResult) => writeReport(path, renderMarkdown(result, options)),
  };
}

/** Markdown-escaped text: no HTML, no link, no emphasis, no table cell break, one line. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\s+/g, " ")
    .replace(/[\\`*_{}[\]()#+!|~>]/g, (c) => `\\${c}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .trim();
}

export function renderMarkdown(result: RunResult, { lang, redact = (t) => t, since }: FileReporterOptions): string {
  const w = WORDS[lang];
  const s = SUMMARY_WORDS[lang];
  const md = (text: string) => escapeMarkdown(redact(text));
  const who = result.student?.name ?? result.student?.id;
  const out: string[] = [];
  out.push(`## hagrade · ${md(who ? `${who} (${result.lab})` : result.lab)} · ${md(`${w.part} ${w.partName[result.part]}`)}`, "");
  const counts = shownCounts(result).map(([o, n]) => `${MARK[o]} ${md(outcomeCount(lang, o, n))}`);
  out.push(`**${md(s.score)}: ${result.score} / ${result.maxScore}** · ${counts.join(" · ")}`, "");

  const fixes = fixNext(result);
  out.push(`### ${md(s.fixNext)}`, "");
  if (fixes.length === 0) out.push(md(s.nothingToFix), "");
  else out.push(...fixes.map((c, i) => `${i + 1}. **${md(c.id)}** — ${md(c.fix[lang])}`), "");

  if (since) {
    out.push(`### ${md(s.since)} \`${since.file.replace(/`/g, "'")}\` (${since.score} / ${since.maxScore})`, "");
    if (since.changes.length === 0) out.push(md(s.noChange), "");
    else {
      const state = (st: CheckState | undefined) => (st ? `${MARK[st.outcome]} ${md(w.outcome[st.outcome])} ${st.points}/${st.maxPoints}` : md(s.notGraded));
      out.push(...since.changes.map((ch) => `- **${md(ch.id)}** ${md(ch.title[lang])}: ${state(ch.before)} → ${state(ch.after)}`), "");
    }
  }

  out.push(`### ${md(s.overview)}`, "", `| ${md(s.check)} | ${md(s.outcome)} | ${md(s.points)} | ${md(s.message)} |`, "|---|---|---|---|");
  for (const c of overviewRows(result)) {
    out.push(`| **${md(c.id)}** ${md(c.title[lang])} | ${MARK[c.outcome]} ${md(w.outcome[c.outcome])} | ${c.points}/${c.maxPoints} | ${md(oneLine(c.message[lang]))} |`);
  }
  const evidence = overviewRows(result)
    .filter((c) => c.outcome !== "pass" && c.outcome !== "skipped")
    .map((c) => [c, checkEvidenceLines(c, lang, EVIDENCE_LIMITS)] as const)
    .filter(([, lines]) => lines.length > 0);
  if (evidence.length > 0) {
    out.push("", `### ${md(w.evidence)}`);
    for (const [c, lines] of evidence) out.push("", `${MARK[c.outcome]} **${md(c.id)}** ${md(c.title[lang])}`, "", ...lines.map((l) => `- ${md(l)}`));
  }
  out.push("", `<sub>hagrade ${md(result.tool.version)}</sub>`, "");
  // Each text was redacted before escaping; this pass catches a secret that spans two texts.
  return redact(out.join("\n"));
}
