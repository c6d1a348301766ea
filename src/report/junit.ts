import junitModule from "junit-report-builder";
import type { Builder, TestCase } from "junit-report-builder";
import type { CheckResult, Evidence, Lang, RunResult } from "../model/index.js";
import type { Reporter } from "./reporter.js";
import { writeReport } from "./output.js";
import type { CheckState, Since } from "./overview.js";
import { WORDS, formatDuration, kindTitle, labelText } from "./i18n.js";

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
const MAX_EVIDENCE_LINES = 12;
const MAX_LINE_CHARS = 300;

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
  const lines = c.evidence.flatMap((e) => evidenceSummary(e, lang));
  if (lines.length > 0) {
    parts.push(`${w.evidence}:`);
    parts.push(...lines.slice(0, MAX_EVIDENCE_LINES).map((l) => `  ${clip(l)}`));
    if (lines.length > MAX_EVIDENCE_LINES) parts.push(`  … ${lines.length - MAX_EVIDENCE_LINES} ${w.more}`);
  }
  return parts.join("\n");
}

/** One line or a few per evidence item: what a teacher reading a CI log needs to see. */
export function evidenceSummary(e: Evidence, lang: Lang): string[] {
  const w = WORDS[lang];
  switch (e.kind) {
    case "sample": {
      const counts = record(e.counts);
      const ratio = record(e.ratio);
      const expected = record(ratio.expectedShares);
      const line = `${w.sample} ${label(e.name, lang)} (${label(e.mode, lang)}): ${num(e.n)} ${w.requests}; ${Object.entries(counts).map(([k, v]) => `${labelText(k, lang)}=${String(v)}`).join(", ")}`;
      const shares = Object.keys(expected).length
        ? [`${w.observed} ${shareList(record(ratio.observedShares), lang)}; ${w.expected} ${shareList(expected, lang)}`]
        : [];
      return [line, ...shares];
    }
    case "failover": {
      const rejoin = typeof e.rejoinMs === "number" ? `${w.rejoinedIn} ${formatDuration(lang, e.rejoinMs)}` : w.notRejoined;
      const detect = typeof e.detectMs === "number" ? `; ${w.detectedIn} ${formatDuration(lang, e.detectMs)}` : "";
      return [`${str(e.victim)}: ${num(e.failedRequests)} ${w.failedRequests}${detect}; ${rejoin}`];
    }
    case "vrrp-failover": {
      const served =
        e.masterReleased === false ? w.masterKeptVip : typeof e.outageMs === "number" ? `${w.servedAgainAfter} ${formatDuration(lang, e.outageMs)}` : w.notServedAgain;
      return [`${str(e.master)} → ${str(e.backup)} (VIP ${str(e.vip)}): ${served}; ${num(e.failedRequests)} ${w.failedRequests}`];
    }
    case "ssh-commands":
      return list(e.commands).map((x) => {
        const c = record(x);
        return `${str(c.host)}$ ${str(c.command)} → ${w.exitCode} ${c.code === null ? "-" : String(c.code)}`;
      });
    case "cookie-trace":
      return [`${w.client} ${String(e.client)}: ${e.error ? `${w.error} ${JSON.stringify(e.error)}` : `${String(e.status)} ${label(e.backend, lang)} ${w.setCookie}: ${list(e.setCookie).map(String).join(" | ") || w.none}`}`];
    case "http-request":
      return [`${str(e.url)}: ${e.ok === false ? `${w.error} ${JSON.stringify(e.error)}` : `${String(e.status)} ${label(e.label, lang)}`}`];
    case "restore":
      return [`${w.restore} ${str(e.host)}: ${e.restored === true ? w.restored : w.notRestored}`];
    case "dependency":
      return [`${w.dependsOn} ${str(e.dependsOn)} (${str(e.outcome)})`];
    default:
      return [`${kindTitle(e.kind, lang) ?? e.kind}: ${JSON.stringify(e)}`];
  }
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

function clip(s: string): string {
  const oneLine = s.replace(/\s+/g, " ");
  return oneLine.length > MAX_LINE_CHARS ? `${oneLine.slice(0, MAX_LINE_CHARS)}…` : oneLine;
}

function shareList(shares: Record<string, unknown>, lang: Lang): string {
  return Object.entries(shares)
    .map(([k, v]) => `${labelText(k, lang)} ${typeof v === "number" ? `${(v * 100).toFixed(1)}%` : String(v)}`)
    .join(", ");
}

function record(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** An evidence label (sample, mode, answer) in the report's language. */
function label(v: unknown, lang: Lang): string {
  return typeof v === "string" ? labelText(v, lang) : str(v);
}

function str(v: unknown): string {
  return typeof v === "string" ? v : v === undefined || v === null ? "-" : JSON.stringify(v);
}

function num(v: unknown): string {
  return typeof v === "number" ? String(v) : "-";
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
