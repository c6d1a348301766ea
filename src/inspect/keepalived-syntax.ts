/**
 * keepalived.conf's syntax, following keepalived's own reader (lib/parser.c): words separated by
 * blanks, "#" or "!" outside quotes end the line (also in the middle of a word: "NAT!x" is "NAT"),
 * "{" and "}" are words of their own even when glued to another word ("80{"), a "{" alone on a
 * line opens the block of the statement above it, "..." keeps blanks in one word, "include <glob>"
 * reads other files in place. Secrets (auth_pass) are redacted as they are read.
 */

import {
  dirnamePosix,
  matchFetchedFiles,
  resolvePosix,
  splitLines,
  type FetchedFile,
  type InspectProblem,
  type SourceRef,
} from "./common.js";

export interface KeepalivedNode {
  keyword: string;
  args: string[];
  /** Present when the statement opens a { } block (possibly empty). */
  children?: KeepalivedNode[];
  file: string;
  line: number;
  /** Line of the closing "}" for blocks. */
  endLine?: number;
  /** "@name" / "@^name" prefix of conditional configuration (keepalived -i name). */
  condition?: string;
}

export interface KeepalivedIncludeRequest {
  pattern: string;
  /** Absolute: relative patterns are taken from the directory of the including file. */
  resolved: string;
  from: SourceRef;
}

export type KeepalivedIncludeReader = (request: KeepalivedIncludeRequest) => FetchedFile[] | { error: string };

export interface KeepalivedParseOptions {
  file?: string;
  readInclude?: KeepalivedIncludeReader;
  /** Nested include depth at which reading stops. */
  maxIncludeDepth?: number;
}

export interface KeepalivedAst {
  nodes: KeepalivedNode[];
  files: string[];
  problems: InspectProblem[];
}

const REDACTED = "<redacted>";
/**
 * Blocks nested deeper than this are skipped, with a problem: the lab needs four levels
 * (virtual_server, real_server, HTTP_GET, url), and a student's file with thousands of "{"
 * must be their error to read, not a stack overflow in the grader.
 */
export const MAX_BLOCK_DEPTH = 64;
/** Keywords whose value is a secret: it never reaches evidence or reports. */
const SECRET_KEYWORDS = new Set(["auth_pass"]);

interface Token {
  word: string;
  quoted: boolean;
}

/** Splits one (continued) line into words, dropping comments. */
function tokenize(text: string): { tokens: Token[]; unterminatedQuote: boolean } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    if (char === "#" || char === "!") break;
    if (char === "{" || char === "}") {
      tokens.push({ word: char, quoted: false });
      i++;
      continue;
    }
    if (char === '"') {
      const close = text.indexOf('"', i + 1);
      if (close < 0) {
        tokens.push({ word: text.slice(i + 1), quoted: true });
        return { tokens, unterminatedQuote: true };
      }
      tokens.push({ word: text.slice(i + 1, close), quoted: true });
      i = close + 1;
      continue;
    }
    let word = "";
    while (i < text.length && !/[\s"{}#!]/.test(text[i] as string)) word += text[i++];
    tokens.push({ word, quoted: false });
  }
  return { tokens, unterminatedQuote: false };
}

interface ParseState {
  options: KeepalivedParseOptions;
  problems: InspectProblem[];
  files: string[];
  definitions: Map<string, string>;
  /** Blocks opened beyond MAX_BLOCK_DEPTH and not yet closed: their content is skipped. */
  skippedBlocks: number;
}

function substitute(text: string, definitions: Map<string, string>): string {
  if (definitions.size === 0 || !text.includes("$")) return text;
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const value = definitions.get((braced ?? bare) as string);
    return value === undefined ? whole : value;
  });
}

function parseInto(text: string, file: string, state: ParseState, depth: number, root: KeepalivedNode[], stack: KeepalivedNode[]): void {
  const physical = splitLines(text);
  const baseDepth = stack.length;
  let lastStatement: KeepalivedNode | undefined;
  const container = (): KeepalivedNode[] => {
    const parent = stack[stack.length - 1];
    return parent ? (parent.children as KeepalivedNode[]) : root;
  };
  for (let index = 0; index < physical.length; index++) {
    const lineNumber = index + 1;
    let raw = physical[index] as string;
    while (raw.endsWith("\\") && index + 1 < physical.length) {
      raw = `${raw.slice(0, -1)} ${physical[++index] as string}`;
    }
    let body = raw.trim();
    if (body === "" || body.startsWith("#") || body.startsWith("!")) continue;
    // "$NAME=value" defines a parameter that later lines may use as $NAME or ${NAME}.
    const definition = /^\$([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(body);
    if (definition) {
      state.definitions.set(definition[1] as string, (definition[2] as string).trim());
      continue;
    }
    let condition: string | undefined;
    const conditional = /^@(\^?[A-Za-z0-9_-]+)\s+(.*)$/.exec(body);
    if (conditional) {
      condition = conditional[1] as string;
      body = conditional[2] as string;
    }
    const { tokens, unterminatedQuote } = tokenize(substitute(body, state.definitions));
    if (unterminatedQuote) {
      state.problems.push({
        code: "unterminated-quote",
        severity: "error",
        message: `Line ${lineNumber} opens a quote (") that is never closed; keepalived reports "Unmatched quote".`,
        file,
        line: lineNumber,
        text: raw,
      });
    }
    let words: string[] = [];
    const flush = (): void => {
      if (words.length === 0) return;
      const node: KeepalivedNode = { keyword: words[0] as string, args: words.slice(1), file, line: lineNumber };
      if (condition !== undefined) node.condition = condition;
      if (SECRET_KEYWORDS.has(node.keyword) && node.args.length > 0) node.args = node.args.map(() => REDACTED);
      if (node.keyword === "include" && node.args[0] !== undefined) {
        readIncluded(node, state, depth, root, stack);
      } else container().push(node);
      lastStatement = node;
      words = [];
    };
    for (const token of tokens) {
      if (state.skippedBlocks > 0 || (!token.quoted && token.word === "{" && stack.length >= MAX_BLOCK_DEPTH)) {
        if (!token.quoted && token.word === "{") {
          if (state.skippedBlocks === 0) {
            state.problems.push({
              code: "block-too-deep",
              severity: "error",
              message: `Line ${lineNumber} opens a block nested more than ${MAX_BLOCK_DEPTH} levels deep; it was not read, and nor was anything inside it. Close the blocks above it ("}").`,
              file,
              line: lineNumber,
              text: raw.slice(0, 200),
            });
          }
          state.skippedBlocks++;
        } else if (!token.quoted && token.word === "}") state.skippedBlocks--;
        words = [];
        lastStatement = undefined;
        continue;
      }
      if (!token.quoted && token.word === "{") {
        let opener: KeepalivedNode | undefined;
        if (words.length > 0) {
          opener = { keyword: words[0] as string, args: words.slice(1), file, line: lineNumber };
          if (condition !== undefined) opener.condition = condition;
          container().push(opener);
          words = [];
        } else if (lastStatement && lastStatement.children === undefined && container().includes(lastStatement)) {
          opener = lastStatement; // "{" alone on its line opens the statement above.
        } else {
          state.problems.push({
            code: "block-without-keyword",
            severity: "error",
            message: `Line ${lineNumber} opens a "{" block that belongs to no keyword.`,
            file,
            line: lineNumber,
            text: raw,
          });
          opener = { keyword: "", args: [], file, line: lineNumber };
          container().push(opener);
        }
        opener.children = [];
        stack.push(opener);
        lastStatement = undefined;
        continue;
      }
      if (!token.quoted && token.word === "}") {
        flush();
        if (stack.length <= baseDepth) {
          state.problems.push({
            code: "unmatched-close-brace",
            severity: "error",
            message: `Line ${lineNumber} has a "}" that closes no block; the blocks above end earlier than they look. Remove it or add the missing "{".`,
            file,
            line: lineNumber,
            text: raw,
          });
        } else {
          const closed = stack.pop() as KeepalivedNode;
          closed.endLine = lineNumber;
          lastStatement = closed;
        }
        continue;
      }
      words.push(token.word);
    }
    flush();
  }
  while (stack.length > baseDepth) {
    const open = stack.pop() as KeepalivedNode;
    state.problems.push({
      code: "unclosed-block",
      severity: "error",
      message: `"${[open.keyword, ...open.args].join(" ")} {" opened on line ${open.line} is never closed: everything after it is read as part of it. Add the missing "}".`,
      file: open.file,
      line: open.line,
    });
  }
}

function readIncluded(node: KeepalivedNode, state: ParseState, depth: number, root: KeepalivedNode[], stack: KeepalivedNode[]): void {
  const pattern = node.args[0] as string;
  const resolved = resolvePosix(dirnamePosix(node.file), pattern);
  if (!state.options.readInclude) return;
  if (depth >= (state.options.maxIncludeDepth ?? 16)) {
    state.problems.push({
      code: "include-too-deep",
      severity: "error",
      message: `include on line ${node.line} is nested ${depth} levels deep; reading stopped (an include loop?).`,
      file: node.file,
      line: node.line,
    });
    return;
  }
  let answer: FetchedFile[] | { error: string };
  try {
    answer = state.options.readInclude({ pattern, resolved, from: { file: node.file, line: node.line } });
  } catch (error) {
    answer = { error: error instanceof Error ? error.message : String(error) };
  }
  if (!Array.isArray(answer)) {
    state.problems.push({
      code: "include-unreadable",
      severity: "error",
      message: `Could not read ${pattern} (include on line ${node.line}): ${answer.error}`,
      file: node.file,
      line: node.line,
    });
    return;
  }
  for (const included of answer) {
    state.files.push(included.path);
    // keepalived reads an included file as if its text stood in place of the include line.
    const innerStack = [...stack];
    parseInto(included.text, included.path, state, depth + 1, root, innerStack);
  }
}

/** Parses keepalived.conf text into a syntax tree with file and line of every statement. */
export function parseKeepalivedConfig(text: string, options: KeepalivedParseOptions = {}): KeepalivedAst {
  const file = options.file ?? "/etc/keepalived/keepalived.conf";
  const state: ParseState = { options: { ...options, file }, problems: [], files: [file], definitions: new Map(), skippedBlocks: 0 };
  const nodes: KeepalivedNode[] = [];
  parseInto(typeof text === "string" ? text : "", file, state, 0, nodes, []);
  return { nodes, files: state.files, problems: state.problems };
}

/** An include reader over files fetched beforehand (e.g. /etc/keepalived/** read over SSH). */
export function keepalivedIncludesFrom(files: readonly FetchedFile[]): KeepalivedIncludeReader {
  return (request) => matchFetchedFiles(files, request.resolved);
}
