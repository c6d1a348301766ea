/**
 * Apache's configuration syntax: logical lines ("\\" continuations), sections, directive
 * arguments split as ap_getword_conf does, and Include/IncludeOptional read in place.
 * Problems of the text itself (a stray parameter line, an unclosed section) come back with it.
 */

import { apacheModuleShortName } from "./apache-ctl.js";
import type { ApacheConfigOptions, ApacheDirective, ApacheIncludeReader } from "./apache-model.js";
import {
  dirnamePosix,
  matchFetchedFiles,
  resolvePosix,
  splitLines,
  type FetchedFile,
  type InspectProblem,
} from "./common.js";

/** Words of ProxyPass/BalancerMember/ProxySet parameters, to recognise them on stray lines. */
const PROXY_PARAMETER_NAMES = new Set([
  "lbmethod", "stickysession", "stickysessionsep", "scolonpathdelim", "nofailover", "maxattempts",
  "failonstatus", "failontimeout", "forcerecovery", "growth", "timeout", "loadfactor", "route",
  "retry", "status", "redirect", "lbset", "min", "max", "smax", "ttl", "acquire", "connectiontimeout",
  "disablereuse", "enablereuse", "flushpackets", "keepalive", "ping", "hcmethod", "hcuri", "hcinterval",
]);
/** Splits directive arguments the way Apache's ap_getword_conf does. */
function splitApacheArgs(text: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    if (i >= text.length) break;
    const quote = text[i];
    if (quote === '"' || quote === "'") {
      let value = "";
      i++;
      while (i < text.length && text[i] !== quote) {
        if (text[i] === "\\" && (text[i + 1] === quote || text[i + 1] === "\\")) i++;
        value += text[i];
        i++;
      }
      i++;
      args.push(value);
    } else {
      let value = "";
      while (i < text.length && !/\s/.test(text[i] as string)) value += text[i++];
      args.push(value);
    }
  }
  return args;
}
interface LogicalLine {
  text: string;
  line: number;
  endLine: number;
}

function logicalLines(text: string, file: string, problems: InspectProblem[]): LogicalLine[] {
  const physical = splitLines(text);
  const result: LogicalLine[] = [];
  for (let i = 0; i < physical.length; i++) {
    const start = i;
    let joined = physical[i] as string;
    // Apache joins a line ending in "\" with the next one only if nothing follows the backslash.
    while (joined.endsWith("\\") && i + 1 < physical.length) {
      joined = `${joined.slice(0, -1)} ${(physical[i + 1] as string).replace(/^\s+/, "")}`;
      i++;
    }
    if (joined.endsWith("\\")) joined = joined.slice(0, -1);
    if (/\\[ \t]+$/.test(physical[i] as string)) {
      problems.push({
        code: "continuation-with-trailing-space",
        severity: "error",
        message:
          `Line ${i + 1} ends in "\\" followed by spaces: Apache continues a line only when "\\" is the very last character, ` +
          "so it reads the backslash as an argument and the next line as a directive of its own. Delete the trailing spaces.",
        file,
        line: i + 1,
        text: physical[i] as string,
      });
    }
    result.push({ text: joined, line: start + 1, endLine: i + 1 });
  }
  return result;
}

interface ParseState {
  options: ApacheConfigOptions;
  serverRoot?: string;
  problems: InspectProblem[];
  files: string[];
  /** Sections opened beyond MAX_SECTION_DEPTH and not yet closed: their content is skipped. */
  skippedSections: number;
}

/**
 * Sections nested deeper than this (counting those around an Include) are skipped, with a
 * problem: the lab needs three levels, and a student's file with thousands of "<Location>"
 * must be their error to read, not a stack overflow in the grader.
 */
export const MAX_SECTION_DEPTH = 64;

/** Whether an <IfModule> section applies, given the loaded modules (all apply when unknown). */
export function ifModuleHolds(args: readonly string[], loaded: ReadonlySet<string> | undefined): boolean {
  if (!loaded) return true;
  const arg = args[0] ?? "";
  const negated = arg.startsWith("!");
  const has = loaded.has(apacheModuleShortName(negated ? arg.slice(1) : arg));
  return negated ? !has : has;
}

function parseFile(text: string, file: string, state: ParseState, depth: number, outer = 0): ApacheDirective[] {
  const root: ApacheDirective[] = [];
  const stack: ApacheDirective[] = [];
  let previous: ApacheDirective | undefined;
  const place = (directive: ApacheDirective): void => {
    const parent = stack[stack.length - 1];
    (parent ? parent.children : root).push(directive);
  };
  for (const logical of logicalLines(text, file, state.problems)) {
    const trimmed = logical.text.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (state.skippedSections > 0) {
      if (/^<\//.test(trimmed)) state.skippedSections--;
      else if (trimmed.startsWith("<")) state.skippedSections++;
      continue;
    }
    if (/^<[^/]/.test(trimmed) && outer + stack.length >= MAX_SECTION_DEPTH) {
      state.problems.push({
        code: "section-too-deep",
        severity: "error",
        message: `Line ${logical.line} opens a section nested more than ${MAX_SECTION_DEPTH} levels deep; it was not read, and nor was anything inside it. Close the sections above it.`,
        file,
        line: logical.line,
        text: logical.text.slice(0, 200),
      });
      state.skippedSections = 1;
      previous = undefined;
      continue;
    }
    const close = /^<\/\s*([^\s>]+)\s*>/.exec(trimmed);
    if (close) {
      const name = close[1] as string;
      const open = stack[stack.length - 1];
      if (!open) {
        state.problems.push({
          code: "unmatched-section-close",
          severity: "error",
          message: `Line ${logical.line} closes <${name}> but no <${name}> section is open here; Apache stops with "</${name}> without matching <${name}> section". Delete the line or add the opening tag.`,
          file,
          line: logical.line,
          text: logical.text,
        });
      } else if (open.key !== name.toLowerCase()) {
        state.problems.push({
          code: "mismatched-section-close",
          severity: "error",
          message: `Line ${logical.line} closes </${name}> while <${open.name}> (line ${open.line}) is still open; Apache expects </${open.name}> first.`,
          file,
          line: logical.line,
          text: logical.text,
        });
        // Recover as Apache's reader would not: close up to the named section if it is open.
        const index = stack.map((s) => s.key).lastIndexOf(name.toLowerCase());
        if (index >= 0) {
          for (let k = stack.length - 1; k >= index; k--) (stack[k] as ApacheDirective).endLine = logical.line;
          stack.length = index;
        }
      } else {
        open.endLine = logical.line;
        stack.pop();
      }
      previous = undefined;
      continue;
    }
    const section = /^<\s*([^\s>]+)\s*(.*?)>\s*$/.exec(trimmed) ?? /^<\s*([^\s>]+)\s*(.*)$/.exec(trimmed);
    if (section) {
      const name = section[1] as string;
      const directive: ApacheDirective = {
        name,
        key: name.toLowerCase(),
        args: splitApacheArgs((section[2] ?? "").trim()),
        isSection: true,
        children: [],
        file,
        line: logical.line,
        endLine: logical.endLine,
        text: logical.text,
      };
      if (!trimmed.endsWith(">")) {
        state.problems.push({
          code: "section-without-closing-bracket",
          severity: "error",
          message: `Line ${logical.line} opens <${name} but the tag has no closing ">".`,
          file,
          line: logical.line,
          text: logical.text,
        });
      }
      place(directive);
      stack.push(directive);
      previous = undefined;
      continue;
    }
    const nameMatch = /^(\S+)\s*(.*)$/.exec(trimmed);
    const name = nameMatch ? (nameMatch[1] as string) : trimmed;
    const directive: ApacheDirective = {
      name,
      key: name.toLowerCase(),
      args: splitApacheArgs(nameMatch ? (nameMatch[2] as string) : ""),
      isSection: false,
      children: [],
      file,
      line: logical.line,
      endLine: logical.endLine,
      text: logical.text,
    };
    if (name.includes("=")) {
      const parameter = name.slice(0, name.indexOf("=")).toLowerCase();
      const after = previous ? ` to the end of line ${previous.line} (${previous.name})` : " to the end of the directive it belongs to";
      state.problems.push({
        code: "stray-parameter-line",
        severity: "error",
        message:
          `Line ${logical.line} is "${trimmed}" on a line of its own: Apache reads it as a directive and stops ` +
          `("Invalid command '${name}'"). ${PROXY_PARAMETER_NAMES.has(parameter) || parameter === "env" || parameter === "expr" ? "It is a parameter: move it" : "Move it"}${after}, ` +
          `or end that line with "\\".`,
        file,
        line: logical.line,
        text: logical.text,
      });
    }
    const inlineComment = directive.args.findIndex((arg) => arg.startsWith("#"));
    if (inlineComment >= 0 && directive.key !== "header" && directive.key !== "requestheader") {
      state.problems.push({
        code: "inline-comment",
        severity: "warning",
        message: `Line ${logical.line} has "#" after the directive: Apache has no end-of-line comments and reads "${directive.args.slice(inlineComment).join(" ")}" as arguments. Put the comment on its own line.`,
        file,
        line: logical.line,
        text: logical.text,
      });
    }
    place(directive);
    previous = directive;
    if (directive.key === "serverroot" && directive.args[0]) state.serverRoot = directive.args[0];
    if ((directive.key === "include" || directive.key === "includeoptional") && directive.args[0]) {
      directive.children.push(...readIncluded(directive, state, depth, outer + stack.length));
    }
  }
  for (const open of stack) {
    state.problems.push({
      code: "unclosed-section",
      severity: "error",
      message: `<${open.name}${open.args.length ? " " + open.args.join(" ") : ""}> opened on line ${open.line} is never closed; Apache stops with "Missing </${open.name}>". Add </${open.name}> at its end.`,
      file,
      line: open.line,
      text: open.text,
    });
  }
  return root;
}

function readIncluded(directive: ApacheDirective, state: ParseState, depth: number, outer: number): ApacheDirective[] {
  const pattern = directive.args[0] as string;
  const optional = directive.key === "includeoptional";
  const resolved = resolvePosix(state.serverRoot ?? state.options.serverRoot, pattern);
  const maxDepth = state.options.maxIncludeDepth ?? 16;
  if (!state.options.readInclude) return [];
  if (depth >= maxDepth) {
    state.problems.push({
      code: "include-too-deep",
      severity: "error",
      message: `Include on line ${directive.line} is nested ${depth} levels deep; reading stopped (an Include loop?).`,
      file: directive.file,
      line: directive.line,
      text: directive.text,
    });
    return [];
  }
  let answer: FetchedFile[] | { error: string };
  try {
    answer = state.options.readInclude({ pattern, resolved, optional, from: { file: directive.file, line: directive.line } });
  } catch (error) {
    answer = { error: error instanceof Error ? error.message : String(error) };
  }
  if (!Array.isArray(answer)) {
    state.problems.push({
      code: "include-unreadable",
      severity: optional ? "warning" : "error",
      message: `Could not read ${pattern} (Include on line ${directive.line}): ${answer.error}`,
      file: directive.file,
      line: directive.line,
      text: directive.text,
    });
    return [];
  }
  if (answer.length === 0 && !optional && !/[*?[]/.test(pattern)) {
    state.problems.push({
      code: "include-missing",
      severity: "error",
      message: `Include on line ${directive.line} names ${resolved}, which does not exist; Apache refuses to start. Use IncludeOptional or fix the path.`,
      file: directive.file,
      line: directive.line,
      text: directive.text,
    });
  }
  const children: ApacheDirective[] = [];
  for (const included of answer) {
    state.files.push(included.path);
    children.push(...parseFile(included.text, included.path, state, depth + 1, outer));
  }
  return children;
}
/**
 * Builds an include reader over files fetched beforehand (e.g. every file under
 * /etc/apache2 or /etc/httpd read with one `cat` over SSH).
 */
export function apacheIncludesFrom(files: readonly FetchedFile[]): ApacheIncludeReader {
  return (request) => {
    const target = request.resolved.startsWith("/") ? request.resolved : resolvePosix(dirnamePosix(request.from.file), request.pattern);
    const isDirectory = !/[*?[]/.test(target) && files.some((file) => file.path.startsWith(`${target.replace(/\/+$/, "")}/`));
    // Apache reads every file of a directory named by Include (recursively not, sorted).
    return matchFetchedFiles(files, isDirectory ? `${target.replace(/\/+$/, "")}/*` : target);
  };
}

/**
 * Reads a configuration text into its directives, following Includes through
 * `options.readInclude`; `files` lists every file read, the first being `options.file`.
 */
export function readApacheDirectives(
  text: string,
  options: ApacheConfigOptions,
): { directives: ApacheDirective[]; files: string[]; problems: InspectProblem[] } {
  const file = options?.file ?? "(config)";
  const state: ParseState = { options: { ...options, file }, problems: [], files: [file], skippedSections: 0 };
  const directives = parseFile(typeof text === "string" ? text : "", file, state, 0);
  return { directives, files: state.files, problems: state.problems };
}
