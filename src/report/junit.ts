import junitModule from "junit-report-builder";
import type { Builder, TestCase } from "junit-report-builder";
import type { CheckResult, Evidence, Lang, RunResult } from "../model/index.js";
import type { Reporter } from "./reporter.js";
import { writeReport } from "./output.js";
import type { CheckState, Since } from "./overview.js";
import { WORDS } from "./i18n.js";
import { checkEvidenceLines, evidenceLines } from "./evidence-text.js";

export interface FileReporterOptions {
  lang: Lang;
  /** Removes secrets from any text before it is written. */
  redact?: (text: string) => string;
  /** What changed since an earlier result of the same lab (`hagrade report --since`). */
  since?: Since;
}

// The package's CommonJS entry exports the builder itself as module.exports, while its typings
// declare an ES default export: under NodeNext the typed default is the namespace, not the builder.
const builder = junitModule as unknown as Builder;

/** Evidence text in a JUnit failure stays short: CI pages show it inline; the HTML has the rest. */
const EVIDENCE_LIMITS = { maxLines: 12, maxChars: 300 };

/**
 * One `<testsuite>` per lab (the document's root element: the Jenkins JUnit schema has no
 * `skipped` attribute on `<testsuites>`, which the builder would write), one `<testcase>` per check.
 * The schema has no properties on a testcase, so each check's points are suite properties
 * named `<check id>.points` / `<check id>.maxPoints`, and also the first line of its system-out.
 */
export function junitReporter(path: string, options: FileReporterOptions): Reporter {
  return {
    onEnd: (result: RunResult) => writeReport(path, renderJunit(result, options)),
  };
}

export function renderJunit(result: RunResult, { lang, redact = (t) => t, since }: FileReporterOptions): string {
  const owner = redact(result.student?.name ?? result.student?.id ?? result.lab);
  const suite = builder.newBuilder().testSuite().name(owner).time(seconds(result.durationMs)).timestamp(new Date(result.startedAt));
  suite.property("lab", redact(result.lab));
  suite.property("part", result.part);
  suite.property("score", String(result.score));
  suite.property("maxScore", String(result.maxScore));
  suite.property("hagradeVersion", result.tool.version);
  suite.property("httpRequests", String(result.traffic.httpRequests));
  suite.property("sshCommands", String(result.traffic.sshCommands));
  for (const c of result.checks) {
    suite.property(`${c.id}.points`, String(c.points));
    suite.property(`${c.id}.maxPoints`, String(c.maxPoints));
  }
  if (since) {
    // `--since`: the earlier result and, per check whose outcome or points changed, the change.
    const state = (st: CheckState | undefined) => (st ? `${st.outcome} ${st.points}/${st.maxPoints}` : "not graded");
    suite.property("since", redact(since.file));
    suite.property("since.score", `${since.score}/${since.maxScore}`);
    for (const ch of since.changes) suite.property(`${ch.id}.since`, `${state(ch.before)} -> ${state(ch.after)}`);
  }
  for (const c of result.checks) addCase(suite.testCase(), c, owner, lang, redact);
  const root = suite.build();
  const xml = root.end({ pretty: true });
  // The texts were redacted one by one; this pass catches a secret split across them.
  return redact(xml) + "\n";
}

function addCase(tc: TestCase, c: CheckResult, owner: string, lang: Lang, redact: (t: string) => string): void {
  const w = WORDS[lang];
  tc.className(`${owner}.${c.part}`).name(c.id).time(seconds(c.durationMs));
  const message = redact(`${c.title[lang]}: ${c.message[lang]}`);
  const details = redact(detailsText(c, lang));
  const points = `${w.score}: ${c.points} / ${c.maxPoints} ${w.points}`;
  switch (c.outcome) {
    case "pass":
      tc.standardOutput(`${points}\n${redact(c.message[lang])}`);
      break;
    case "fail":
    case "inconclusive":
      // Not passed, and not the CI's fault: a failure (type tells them apart). <error> is kept for
      // the grader's own trouble, which CI pages show as an infrastructure fault.
      tc.failure(message, c.outcome).stacktrace(details);
      tc.standardOutput(points);
      break;
    case "error":
      tc.error(message, c.outcome, details);
      tc.standardOutput(points);
      break;
    case "skipped": {
      tc.skipped();
      tc.standardOutput(`${points}\n${message}`);
      // The builder writes a bare <skipped/>; CI tools show its message attribute as the reason.
      const build = tc.build.bind(tc);
      tc.build = (parent) => {
        const element = build(parent);
        for (const child of element.children) {
          if ("name" in child && child.name === "skipped" && "att" in child && typeof child.att === "function") {
            child.att("message", message);
          }
        }
        return element;
      };
      break;
    }
  }
}

function detailsText(c: CheckResult, lang: Lang): string {
  const w = WORDS[lang];
  const parts: string[] = [];
  if (c.fix) parts.push(`${w.fix}: ${c.fix[lang]}`);
  const lines = checkEvidenceLines(c, lang, EVIDENCE_LIMITS);
  if (lines.length > 0) parts.push(`${w.evidence}:`, ...lines.map((l) => `  ${l}`));
  return parts.join("\n");
}

/** One line or a few per evidence item: what a teacher reading a CI log needs to see. */
export function evidenceSummary(e: Evidence, lang: Lang): string[] {
  return evidenceLines(e, lang);
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/**
 * The class in one JUnit file: a `<testsuites>` root with each lab's `<testsuite>` (as its own
 * junit.xml has it), so a CI page lists every student apart. A lab that could not be graded is a
 * suite with one errored test case `hagrade.grade` carrying the reason.
 */
export function renderClassJunit(
  labs: { lab: string; student: { id: string; name?: string }; status: string; reason?: { es: string; en: string }; result?: RunResult }[],
  lang: Lang,
): string {
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let errors = 0;
  let time = 0;
  for (const l of labs) {
    if (l.result && (l.status === "graded" || l.status === "timeout")) {
      const xml = renderJunit(l.result, { lang });
      suites.push(xml.replace(/^<\?xml[^>]*\?>\s*/, "").trim());
      tests += l.result.checks.length;
      failures += l.result.counts.fail + l.result.counts.inconclusive;
      errors += l.result.counts.error;
      time += l.result.durationMs;
      continue;
    }
    const owner = l.student.name ?? l.student.id;
    const suite = builder.newBuilder().testSuite().name(owner);
    suite.property("lab", l.lab);
    suite.property("status", l.status);
    suite.testCase().className(`${owner}.grade`).name("hagrade.grade").error(l.reason?.[lang] ?? l.status, l.status);
    suites.push(suite.build().end({ pretty: true }).replace(/^<\?xml[^>]*\?>\s*/, "").trim());
    tests += 1;
    errors += 1;
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="hagrade" tests="${tests}" failures="${failures}" errors="${errors}" time="${seconds(time)}">\n${suites.join("\n")}\n</testsuites>\n`;
}
