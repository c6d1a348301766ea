/**
 * The report formats `run` and `report` can write, chosen the same way in both: `--reporter LIST`
 * names formats written to the report folder under their usual names, and `--<format> FILE` writes
 * one where asked (`-` is standard output, for one format at most; the console then goes to stderr).
 */
import { join, resolve } from "node:path";
import type { Lang } from "../model/index.js";
import { consoleReporter } from "../report/console.js";
import { gradescopeReporter } from "../report/gradescope.js";
import { htmlReporter } from "../report/html.js";
import { jsonReporter } from "../report/json.js";
import { junitReporter } from "../report/junit.js";
import { markdownReporter } from "../report/markdown.js";
import { STDOUT } from "../report/output.js";
import type { Since } from "../report/overview.js";
import type { Reporter } from "../report/reporter.js";
import { tapReporter } from "../report/tap.js";
import { UsageError } from "./args.js";
import type { OptionSpecs } from "./command.js";

/** Every file format, with its file name in the report folder. */
export const FORMATS = {
  json: "result.json",
  junit: "junit.xml",
  html: "scorecard.html",
  gradescope: "results.json",
  tap: "results.tap",
  markdown: "summary.md",
} as const;

export type Format = keyof typeof FORMATS;
export const REPORTERS = ["console", ...(Object.keys(FORMATS) as Format[])] as const;
export type ReporterName = (typeof REPORTERS)[number];

/** The `--<format> FILE` flags, the same for every command that writes reports. */
export const FORMAT_OPTIONS = {
  json: { type: "string", arg: "FILE|-", help: "the JSON result (everything, with evidence); - for standard output" },
  junit: { type: "string", arg: "FILE|-", help: "JUnit XML for CI test pages (Jenkins schema)" },
  html: { type: "string", arg: "FILE|-", help: "the HTML scorecard (one self-contained page)" },
  gradescope: { type: "string", arg: "FILE|-", help: "Gradescope's autograder results.json (/autograder/results/results.json)" },
  tap: { type: "string", arg: "FILE|-", help: "TAP version 14" },
  markdown: { type: "string", arg: "FILE|-", help: "a Markdown summary, e.g. \"$GITHUB_STEP_SUMMARY\"" },
} as const satisfies OptionSpecs;

/** `--reporter LIST`: known names only. */
export function parseReporterList(value: string): Set<ReporterName> {
  const names = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(REPORTERS as readonly string[]).includes(n)) throw new UsageError(`--reporter: unknown reporter "${n}" (known: ${REPORTERS.join(", ")})`);
  }
  return new Set(names as ReporterName[]);
}

export interface OutputChoice {
  /** Formats written to `outDir` under their usual names (from --reporter). */
  inFolder: Set<ReporterName>;
  /** The `--<format> FILE` values given. */
  paths: Partial<Record<Format, string | undefined>>;
  outDir?: string;
  lang: Lang;
  redact?: (text: string) => string;
  since?: Since;
  /** The console even when no other reporter is chosen (`report` prints the result by default). */
  console: boolean;
}

export interface Outputs {
  reporters: Reporter[];
  /** Where messages for the person go: stderr when a report takes standard output. */
  messages: NodeJS.WritableStream;
}

/** The reporters for a choice; two formats on standard output is a UsageError. */
export function reportersFor(choice: OutputChoice): Outputs {
  const targets: [Format, string][] = [];
  for (const format of Object.keys(FORMATS) as Format[]) {
    const path = choice.paths[format];
    if (path !== undefined) targets.push([format, path === STDOUT ? STDOUT : resolve(path)]);
    else if (choice.inFolder.has(format) && choice.outDir) targets.push([format, join(choice.outDir, FORMATS[format])]);
  }
  const onStdout = targets.filter(([, p]) => p === STDOUT).map(([f]) => `--${f} -`);
  if (onStdout.length > 1) throw new UsageError(`only one report can go to standard output (got ${onStdout.join(" and ")})`);
  const messages = onStdout.length ? process.stderr : process.stdout;
  const { lang, redact, since } = choice;
  const options = { lang, ...(redact ? { redact } : {}), ...(since ? { since } : {}) };
  const reporters: Reporter[] = [];
  if (choice.console) reporters.push(consoleReporter(lang, messages as typeof process.stdout, process.env, since ? { since } : {}));
  for (const [format, path] of targets) {
    switch (format) {
      case "json":
        reporters.push(jsonReporter(path, redact, since));
        break;
      case "junit":
        reporters.push(junitReporter(path, options));
        break;
      case "html":
        reporters.push(htmlReporter(path, options));
        break;
      case "gradescope":
        reporters.push(gradescopeReporter(path, options));
        break;
      case "tap":
        reporters.push(tapReporter(path, options));
        break;
      case "markdown":
        reporters.push(markdownReporter(path, options));
        break;
    }
  }
  return { reporters, messages };
}
