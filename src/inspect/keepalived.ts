/**
 * A reader of keepalived.conf (the lab's Part 1) and of genhash output.
 *
 * The grammar follows keepalived's own reader (lib/parser.c): words separated by blanks,
 * "#" or "!" outside quotes end the line (also in the middle of a word: "NAT!x" is "NAT"),
 * "{" and "}" are words of their own even when glued to another word ("80{"), a "{" alone
 * on a line opens the block of the statement above it, "..." keeps blanks in one word,
 * "include <glob>" reads other files in place. Versions differ in keyword names
 * (nb_get_retry / retry, lb_algo / lvs_sched, lb_kind / lvs_method): the model accepts both.
 */

import { createHash } from "node:crypto";

import {
  dirnamePosix,
  isIpv4,
  isIpv6,
  matchFetchedFiles,
  parseDecimal,
  parseUnsigned,
  resolvePosix,
  splitLines,
  type FetchedFile,
  type InspectProblem,
  type SourceRef,
} from "./common.js";

// =======================================================================================
// Syntax tree

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
  const state: ParseState = { options: { ...options, file }, problems: [], files: [file], definitions: new Map() };
  const nodes: KeepalivedNode[] = [];
  parseInto(typeof text === "string" ? text : "", file, state, 0, nodes, []);
  return { nodes, files: state.files, problems: state.problems };
}

/** An include reader over files fetched beforehand (e.g. /etc/keepalived/** read over SSH). */
export function keepalivedIncludesFrom(files: readonly FetchedFile[]): KeepalivedIncludeReader {
  return (request) => matchFetchedFiles(files, request.resolved);
}

// =======================================================================================
// Model of what the lab grades

export type KeepalivedCheckType =
  | "TCP_CHECK" | "HTTP_GET" | "SSL_GET" | "MISC_CHECK" | "SMTP_CHECK" | "DNS_CHECK"
  | "UDP_CHECK" | "PING_CHECK" | "BFD_CHECK" | "FILE_CHECK";

const CHECK_TYPES = new Set<string>([
  "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "BFD_CHECK", "FILE_CHECK",
]);

export interface StatusCodeRange {
  min: number;
  max: number;
}

export interface KeepalivedUrl {
  path?: string;
  /** Lower-case hex, as genhash prints it (keepalived compares digests byte-wise). */
  digest?: string;
  /** Accepted status codes; keepalived accepts 200-299 when none is given. */
  statusCodes: StatusCodeRange[];
  statusCodeGiven: boolean;
  virtualhost?: string;
  regex?: string;
  file: string;
  line: number;
}

export interface KeepalivedCheck {
  type: KeepalivedCheckType;
  connectIp?: string;
  connectPort?: number;
  /** The port the checker actually connects to: connect_port, or the real server's port. */
  effectivePort?: number;
  connectTimeout?: number;
  retry?: number;
  /** Which keyword gave `retry`: the deprecated "nb_get_retry" of keepalived 1.x or "retry". */
  retryKeyword?: "retry" | "nb_get_retry";
  delayBeforeRetry?: number;
  delayLoop?: number;
  warmup?: number;
  urls: KeepalivedUrl[];
  virtualhost?: string;
  miscPath?: string;
  miscTimeout?: number;
  file: string;
  line: number;
}

export interface KeepalivedRealServer {
  address: string;
  port?: number;
  /** keepalived's default weight is 1. */
  weight: number;
  inhibitOnFailure: boolean;
  checks: KeepalivedCheck[];
  file: string;
  line: number;
}

export interface KeepalivedVirtualServer {
  /** "203.0.113.10 80", "fwmark 1" or "group NAME". */
  kind: "address" | "fwmark" | "group";
  address?: string;
  port?: number;
  fwmark?: number;
  group?: string;
  delayLoop?: number;
  /** IPVS scheduler (lb_algo, or lvs_sched in newer configs). */
  lbAlgo?: string;
  /** NAT, DR or TUN (lb_kind, or lvs_method). */
  lbKind?: string;
  /** Seconds; undefined when the line is absent. 0 as written is reported as a problem. */
  persistenceTimeout?: number;
  persistenceGranularity?: string;
  protocol?: string;
  sorryServer?: { address: string; port?: number };
  virtualhost?: string;
  quorum?: number;
  realServers: KeepalivedRealServer[];
  file: string;
  line: number;
}

export interface KeepalivedVrrpInstance {
  name: string;
  state?: string;
  interface?: string;
  virtualRouterId?: number;
  priority?: number;
  advertInt?: number;
  nopreempt: boolean;
  virtualIpAddresses: string[];
  authType?: string;
  /** Whether auth_pass is set; its value is never kept. */
  authPassSet: boolean;
  trackScripts: string[];
  trackInterfaces: string[];
  file: string;
  line: number;
}

export interface KeepalivedGlobalDefs {
  routerId?: string;
  /** "lvs_id" is what keepalived 1.x and the lab text call router_id; 2.2.7 no longer knows it. */
  routerIdKeyword?: "router_id" | "lvs_id";
  notificationEmail: string[];
  notificationEmailFrom?: string;
  smtpServer?: string;
  file?: string;
  line?: number;
}

export interface KeepalivedVirtualServerGroup {
  name: string;
  /** Member lines as written: "10.0.0.1 8080", "192.168.200.3-10 80", "fwmark 1". */
  members: string[][];
  file: string;
  line: number;
}

export interface KeepalivedModel {
  globalDefs: KeepalivedGlobalDefs;
  virtualServers: KeepalivedVirtualServer[];
  virtualServerGroups: KeepalivedVirtualServerGroup[];
  vrrpInstances: KeepalivedVrrpInstance[];
  problems: InspectProblem[];
}

/** Schedulers the Linux IPVS code knows (ipvsadm -s). */
const IPVS_SCHEDULERS = new Set(["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"]);
const FORWARDING_METHODS = new Set(["NAT", "DR", "TUN"]);

function where(node: KeepalivedNode): { file: string; line: number } {
  return { file: node.file, line: node.line };
}

function statementText(node: KeepalivedNode): string {
  return [node.keyword, ...node.args].join(" ");
}

class ModelBuilder {
  readonly problems: InspectProblem[] = [];

  problem(code: string, severity: "error" | "warning", node: KeepalivedNode, message: string): void {
    const problem: InspectProblem = { code, severity, message, file: node.file, line: node.line, text: statementText(node) };
    // keepalived reports block-level errors on the closing "}" line; the span covers both.
    if (node.endLine !== undefined && node.endLine !== node.line) problem.endLine = node.endLine;
    this.problems.push(problem);
  }

  number(node: KeepalivedNode, options: { integer?: boolean; min?: number } = {}): number | undefined {
    const token = node.args[0];
    const value = options.integer ? parseUnsigned(token) : parseDecimal(token);
    if (value === undefined) {
      this.problem(
        "invalid-number",
        "error",
        node,
        `Line ${node.line}: ${node.keyword} needs a ${options.integer ? "whole " : ""}number but has "${token ?? ""}".`,
      );
      return undefined;
    }
    return value;
  }

  address(node: KeepalivedNode, text: string | undefined, what: string): string | undefined {
    if (text === undefined) {
      this.problem("missing-address", "error", node, `Line ${node.line}: ${what} has no address.`);
      return undefined;
    }
    if (!isIpv4(text) && !isIpv6(text)) {
      this.problem(
        "not-an-ip-address",
        "error",
        node,
        `Line ${node.line}: ${what} address "${text}" is not an IP address${/_/.test(text) ? " (the lab text's placeholder, left as written?)" : ""}. Write the machine's IP address.`,
      );
    }
    return text;
  }

  port(node: KeepalivedNode, text: string | undefined): number | undefined {
    if (text === undefined) return undefined;
    const port = parseUnsigned(text);
    if (port === undefined || port > 65535) {
      this.problem("invalid-port", "error", node, `Line ${node.line}: "${text}" is not a port number (1-65535).`);
      return undefined;
    }
    return port;
  }

  globalDefs(node: KeepalivedNode, into: KeepalivedGlobalDefs): void {
    into.file = node.file;
    into.line = node.line;
    for (const child of node.children ?? []) {
      switch (child.keyword) {
        case "router_id":
        case "lvs_id":
          into.routerId = child.args[0];
          into.routerIdKeyword = child.keyword;
          if (child.keyword === "lvs_id") {
            this.problem(
              "lvs-id-unknown",
              "warning",
              child,
              `Line ${child.line}: keepalived 2.x does not know "lvs_id" (it says "Unknown keyword 'lvs_id'" and ignores it; \`keepalived -t\` fails). Write "router_id ${child.args[0] ?? "NAME"}" instead.`,
            );
          }
          break;
        case "notification_email":
          into.notificationEmail = (child.children ?? []).map((entry) => entry.keyword);
          break;
        case "notification_email_from":
          if (child.args[0] !== undefined) into.notificationEmailFrom = child.args[0];
          break;
        case "smtp_server":
          if (child.args[0] !== undefined) into.smtpServer = child.args[0];
          break;
        default:
          break;
      }
    }
  }

  url(node: KeepalivedNode): KeepalivedUrl {
    const url: KeepalivedUrl = { statusCodes: [], statusCodeGiven: false, ...where(node) };
    for (const child of node.children ?? []) {
      switch (child.keyword) {
        case "path":
          if (child.args[0] !== undefined) url.path = child.args[0];
          break;
        case "digest": {
          const digest = child.args[0] ?? "";
          if (!/^[0-9A-Fa-f]{32}$/.test(digest)) {
            this.problem(
              "invalid-digest",
              "error",
              child,
              `Line ${child.line}: digest "${digest}" is not 32 hexadecimal characters (an MD5 as genhash prints it); keepalived ignores it.`,
            );
          }
          url.digest = digest.toLowerCase();
          break;
        }
        case "status_code":
          url.statusCodeGiven = true;
          for (const arg of child.args) {
            const range = /^(\d{3})(?:-(\d{3}))?$/.exec(arg);
            if (!range) {
              this.problem("invalid-status-code", "error", child, `Line ${child.line}: "${arg}" is not a status code or a range such as 200-299.`);
              continue;
            }
            url.statusCodes.push({ min: Number(range[1]), max: Number(range[2] ?? range[1]) });
          }
          break;
        case "virtualhost":
          if (child.args[0] !== undefined) url.virtualhost = child.args[0];
          break;
        case "regex":
          if (child.args[0] !== undefined) url.regex = child.args[0];
          break;
        default:
          break;
      }
    }
    if (url.statusCodes.length === 0) url.statusCodes.push({ min: 200, max: 299 });
    if (url.path === undefined) {
      this.problem("url-without-path", "error", node, `Line ${node.line}: this url block has no "path"; keepalived ignores the url.`);
    }
    return url;
  }

  check(node: KeepalivedNode, realServerPort: number | undefined): KeepalivedCheck {
    const check: KeepalivedCheck = { type: node.keyword as KeepalivedCheckType, urls: [], ...where(node) };
    for (const child of node.children ?? []) {
      switch (child.keyword) {
        case "connect_ip":
          if (child.args[0] !== undefined) check.connectIp = child.args[0];
          break;
        case "connect_port": {
          const port = this.port(child, child.args[0]);
          if (port !== undefined) check.connectPort = port;
          break;
        }
        case "connect_timeout": {
          const value = this.number(child);
          if (value !== undefined) check.connectTimeout = value;
          break;
        }
        case "retry":
        case "nb_get_retry": {
          const value = this.number(child, { integer: true });
          if (value !== undefined) {
            check.retry = value;
            check.retryKeyword = child.keyword;
          }
          if (child.keyword === "nb_get_retry") {
            this.problem(
              "nb-get-retry-deprecated",
              "warning",
              child,
              `Line ${child.line}: "nb_get_retry" is keepalived 1.x's name; 2.x still reads it but warns "nb_get_retry is deprecated - please use 'retry'".`,
            );
          }
          break;
        }
        case "delay_before_retry": {
          const value = this.number(child);
          if (value !== undefined) check.delayBeforeRetry = value;
          break;
        }
        case "delay_loop": {
          const value = this.number(child);
          if (value !== undefined) check.delayLoop = value;
          break;
        }
        case "warmup": {
          const value = this.number(child);
          if (value !== undefined) check.warmup = value;
          break;
        }
        case "url":
          check.urls.push(this.url(child));
          break;
        case "virtualhost":
          if (child.args[0] !== undefined) check.virtualhost = child.args[0];
          break;
        case "misc_path":
          if (child.args.length > 0) check.miscPath = child.args.join(" ");
          break;
        case "misc_timeout": {
          const value = this.number(child);
          if (value !== undefined) check.miscTimeout = value;
          break;
        }
        default:
          break;
      }
    }
    const effectivePort = check.connectPort ?? realServerPort;
    if (effectivePort !== undefined) check.effectivePort = effectivePort;
    if ((check.type === "HTTP_GET" || check.type === "SSL_GET") && check.urls.length === 0) {
      this.problem(
        "http-check-without-url",
        "error",
        node,
        `Line ${node.line}: ${check.type} has no url { path ... } block; keepalived says "HTTP/SSL_GET checker has no urls specified - ignoring" and drops the check.`,
      );
    }
    return check;
  }

  realServer(node: KeepalivedNode): KeepalivedRealServer {
    const address = this.address(node, node.args[0], "real_server") ?? "";
    const server: KeepalivedRealServer = { address, weight: 1, inhibitOnFailure: false, checks: [], ...where(node) };
    const port = this.port(node, node.args[1]);
    if (port !== undefined) server.port = port;
    for (const child of node.children ?? []) {
      if (CHECK_TYPES.has(child.keyword)) {
        server.checks.push(this.check(child, server.port));
        continue;
      }
      switch (child.keyword) {
        case "weight": {
          const value = this.number(child, { integer: true });
          if (value !== undefined) server.weight = value;
          break;
        }
        case "inhibit_on_failure":
          server.inhibitOnFailure = child.args[0] === undefined || /^(on|true|yes)$/i.test(child.args[0]);
          break;
        default:
          break;
      }
    }
    return server;
  }

  virtualServer(node: KeepalivedNode): KeepalivedVirtualServer {
    const [first, second] = node.args;
    let server: KeepalivedVirtualServer;
    if (first === "fwmark") {
      server = { kind: "fwmark", realServers: [], ...where(node) };
      const mark = parseUnsigned(second);
      if (mark === undefined) this.problem("invalid-fwmark", "error", node, `Line ${node.line}: fwmark needs a number but has "${second ?? ""}".`);
      else server.fwmark = mark;
    } else if (first === "group") {
      server = { kind: "group", realServers: [], ...where(node) };
      if (second !== undefined) server.group = second;
    } else {
      server = { kind: "address", realServers: [], ...where(node) };
      const address = this.address(node, first, "virtual_server");
      if (address !== undefined) server.address = address;
      const port = this.port(node, second);
      if (port !== undefined) server.port = port;
    }
    for (const child of node.children ?? []) {
      switch (child.keyword) {
        case "delay_loop": {
          const value = this.number(child);
          if (value !== undefined) server.delayLoop = value;
          break;
        }
        case "lb_algo":
        case "lvs_sched": {
          const scheduler = child.args[0];
          if (scheduler !== undefined) server.lbAlgo = scheduler;
          if (scheduler === undefined || !IPVS_SCHEDULERS.has(scheduler)) {
            this.problem(
              "unknown-scheduler",
              "error",
              child,
              `Line ${child.line}: "${scheduler ?? ""}" is not an IPVS scheduler (rr, wrr, lc, wlc, sh, dh, sed, nq, ...; see man ipvsadm).`,
            );
          }
          break;
        }
        case "lb_kind":
        case "lvs_method": {
          const method = child.args[0];
          if (method !== undefined) server.lbKind = method.toUpperCase();
          if (method === undefined || !FORWARDING_METHODS.has(method.toUpperCase())) {
            this.problem(
              "unknown-forwarding-method",
              "error",
              child,
              `Line ${child.line}: "${method ?? ""}" is not a forwarding method; keepalived knows NAT, DR and TUN (the lab uses NAT).`,
            );
          }
          break;
        }
        case "persistence_timeout": {
          const value = this.number(child, { integer: true });
          if (value === 0) {
            this.problem(
              "persistence-timeout-zero",
              "error",
              child,
              `Line ${child.line}: keepalived 2.2 rejects "persistence_timeout 0" ("number '0' outside range [1, 2678400]"; \`keepalived -t\` exits 5). To turn persistence off, delete the line.`,
            );
          }
          if (value !== undefined) server.persistenceTimeout = value;
          break;
        }
        case "persistence_granularity":
          if (child.args[0] !== undefined) server.persistenceGranularity = child.args[0];
          break;
        case "protocol":
          if (child.args[0] !== undefined) server.protocol = child.args[0].toUpperCase();
          break;
        case "sorry_server": {
          const address = this.address(child, child.args[0], "sorry_server");
          if (address !== undefined) {
            server.sorryServer = { address };
            const port = this.port(child, child.args[1]);
            if (port !== undefined) server.sorryServer.port = port;
          }
          break;
        }
        case "virtualhost":
          if (child.args[0] !== undefined) server.virtualhost = child.args[0];
          break;
        case "quorum": {
          const value = this.number(child, { integer: true });
          if (value !== undefined) server.quorum = value;
          break;
        }
        case "real_server":
          server.realServers.push(this.realServer(child));
          break;
        default:
          break;
      }
    }
    if (server.protocol === undefined && server.kind !== "fwmark") {
      this.problem(
        "protocol-missing",
        "warning",
        node,
        `Line ${node.line}: this virtual_server has no "protocol TCP"; keepalived 2.2.7 then logs "no protocol set - defaulting to UDP" and the web service is not balanced.`,
      );
    }
    if (server.realServers.length === 0) {
      this.problem("virtual-server-without-real-servers", "warning", node, `Line ${node.line}: this virtual_server has no real_server.`);
    }
    return server;
  }

  vrrpInstance(node: KeepalivedNode): KeepalivedVrrpInstance {
    const instance: KeepalivedVrrpInstance = {
      name: node.args[0] ?? "",
      nopreempt: false,
      virtualIpAddresses: [],
      authPassSet: false,
      trackScripts: [],
      trackInterfaces: [],
      ...where(node),
    };
    for (const child of node.children ?? []) {
      switch (child.keyword) {
        case "state":
          if (child.args[0] !== undefined) instance.state = child.args[0].toUpperCase();
          break;
        case "interface":
          if (child.args[0] !== undefined) instance.interface = child.args[0];
          break;
        case "virtual_router_id": {
          const value = this.number(child, { integer: true });
          if (value !== undefined) instance.virtualRouterId = value;
          break;
        }
        case "priority": {
          const value = this.number(child, { integer: true });
          if (value !== undefined) instance.priority = value;
          break;
        }
        case "advert_int": {
          const value = this.number(child);
          if (value !== undefined) instance.advertInt = value;
          break;
        }
        case "nopreempt":
          instance.nopreempt = true;
          break;
        case "virtual_ipaddress":
          instance.virtualIpAddresses.push(...(child.children ?? []).map((entry) => entry.keyword));
          break;
        case "authentication":
          for (const entry of child.children ?? []) {
            if (entry.keyword === "auth_type" && entry.args[0] !== undefined) instance.authType = entry.args[0];
            if (entry.keyword === "auth_pass") instance.authPassSet = entry.args.length > 0;
          }
          break;
        case "track_script":
          instance.trackScripts.push(...(child.children ?? []).map((entry) => entry.keyword));
          break;
        case "track_interface":
          instance.trackInterfaces.push(...(child.children ?? []).map((entry) => entry.keyword));
          break;
        default:
          break;
      }
    }
    return instance;
  }
}

export interface KeepalivedModelOptions {
  /**
   * The name keepalived runs with (`-i NAME`, default: the host name): "@NAME" lines apply
   * only to it and "@^NAME" lines to every other. Without it conditional lines are left out.
   */
  configId?: string;
}

function conditionHolds(condition: string | undefined, configId: string | undefined): boolean {
  if (condition === undefined) return true;
  if (configId === undefined) return false;
  return condition.startsWith("^") ? condition.slice(1) !== configId : condition === configId;
}

function selectConditional(nodes: readonly KeepalivedNode[], configId: string | undefined): KeepalivedNode[] {
  return nodes
    .filter((node) => conditionHolds(node.condition, configId))
    .map((node) => (node.children ? { ...node, children: selectConditional(node.children, configId) } : node));
}

/** Reads the global_defs, virtual servers and VRRP instances out of a parsed keepalived.conf. */
export function keepalivedModel(ast: KeepalivedAst | readonly KeepalivedNode[], options: KeepalivedModelOptions = {}): KeepalivedModel {
  const nodes = selectConditional(Array.isArray(ast) ? (ast as readonly KeepalivedNode[]) : (ast as KeepalivedAst).nodes, options.configId);
  const builder = new ModelBuilder();
  const model: KeepalivedModel = {
    globalDefs: { notificationEmail: [] },
    virtualServers: [],
    virtualServerGroups: [],
    vrrpInstances: [],
    problems: builder.problems,
  };
  for (const node of nodes) {
    switch (node.keyword) {
      case "global_defs":
        builder.globalDefs(node, model.globalDefs);
        break;
      case "virtual_server":
        model.virtualServers.push(builder.virtualServer(node));
        break;
      case "virtual_server_group":
        model.virtualServerGroups.push({
          name: node.args[0] ?? "",
          members: (node.children ?? []).map((entry) => [entry.keyword, ...entry.args]),
          ...where(node),
        });
        break;
      case "vrrp_instance":
        model.vrrpInstances.push(builder.vrrpInstance(node));
        break;
      case "real_server":
      case "TCP_CHECK":
      case "HTTP_GET":
      case "SSL_GET":
      case "persistence_timeout":
      case "lb_algo":
      case "lb_kind":
      case "weight":
        builder.problem(
          "statement-outside-block",
          "error",
          node,
          `Line ${node.line}: "${node.keyword}" stands outside any virtual_server block (a "}" too many above it?).`,
        );
        break;
      default:
        break;
    }
  }
  const groups = new Set(model.virtualServerGroups.map((group) => group.name));
  for (const server of model.virtualServers) {
    if (server.kind === "group" && server.group !== undefined && !groups.has(server.group)) {
      builder.problems.push({
        code: "unknown-virtual-server-group",
        severity: "error",
        message: `Line ${server.line}: virtual_server group ${server.group} names a virtual_server_group that is not defined.`,
        file: server.file,
        line: server.line,
      });
    }
  }
  if (!Array.isArray(ast)) model.problems.unshift(...(ast as KeepalivedAst).problems);
  return model;
}

// =======================================================================================
// HTTP_GET digests and genhash

/*
 * What keepalived hashes (keepalived/check/check_http.c http_process_response, and the
 * older stand-alone genhash/http.c http_process_stream; both verified against genhash
 * 2.2.7 on a loopback server):
 *  - the bytes after the first "\r\n\r\n" of the response: the headers are excluded;
 *  - at most Content-Length bytes when the headers carry "Content-Length:" (matched
 *    case-sensitively, as strstr does), otherwise everything up to the end of the stream;
 *  - the raw stream: a chunked body is NOT decoded, its chunk-size lines are hashed too.
 *    keepalived asks with HTTP/1.0 by default, so servers answer unchunked; with
 *    `http_protocol 1.1` (genhash -P 1.1) a chunked answer hashes differently from its body.
 * The digest is MD5 printed as 32 lower-case hex characters.
 */

/** MD5 hex of an HTTP response body, as keepalived's HTTP_GET and genhash compute it. */
export function genhashDigest(body: Buffer | Uint8Array | string): string {
  return createHash("md5").update(typeof body === "string" ? Buffer.from(body, "utf8") : body).digest("hex");
}

export interface ResponseDigest {
  /** undefined when the response has no end of headers (keepalived: "no data received"). */
  digest?: string;
  statusCode?: number;
  contentLength?: number;
  chunked: boolean;
  /** How many body bytes went into the digest. */
  hashedBytes: number;
}

/** The digest keepalived computes from a raw HTTP response (status line, headers and body). */
export function keepalivedResponseDigest(raw: Buffer | Uint8Array): ResponseDigest {
  const buffer = Buffer.from(raw);
  const end = buffer.indexOf("\r\n\r\n", 0, "latin1");
  if (end < 0) return { chunked: false, hashedBytes: 0 };
  const head = buffer.subarray(0, end).toString("latin1");
  const body = buffer.subarray(end + 4);
  const result: ResponseDigest = { chunked: /\r\nTransfer-Encoding:[^\r\n]*chunked/i.test(head), hashedBytes: 0 };
  const status = /^\S*\s+(\d+)/.exec(head);
  if (status) result.statusCode = Number(status[1]);
  const length = /Content-Length:[ \t]*(\d+)/.exec(head);
  let hashed = body;
  if (length) {
    result.contentLength = Number(length[1]);
    hashed = body.subarray(0, Math.min(body.length, result.contentLength));
  }
  result.hashedBytes = hashed.length;
  result.digest = genhashDigest(hashed);
  return result;
}

export interface GenhashResult {
  digest?: string;
  /** keepalived 1.x genhash warns when the body is shorter or longer than Content-Length. */
  contentLengthMismatch?: { contentLength: number; received: number };
  /** From verbose (-v) output: "Global response time for [/] = 3676 usecs". */
  responseTimeMicroseconds?: number;
  problems: InspectProblem[];
}

/**
 * Reads genhash output: keepalived 2.x prints the bare digest (after hex dumps with -v),
 * keepalived 1.x prints "MD5SUM = <digest>".
 */
export function parseGenhashOutput(stdout: string): GenhashResult {
  const result: GenhashResult = { problems: [] };
  const lines = splitLines(typeof stdout === "string" ? stdout : "");
  lines.forEach((raw, index) => {
    const text = raw.trim();
    const digest = /^(?:(?:MD5SUM|MD5|SHA1SUM)\s*=\s*)?([0-9a-fA-F]{32})$/.exec(text);
    if (digest) result.digest = (digest[1] as string).toLowerCase();
    const mismatch = /Content-Length \((\d+)\) does not match received bytes \((\d+)\)/.exec(text);
    if (mismatch) result.contentLengthMismatch = { contentLength: Number(mismatch[1]), received: Number(mismatch[2]) };
    const time = /^Global response time for \[.*\] = (\d+) usecs$/.exec(text);
    if (time) result.responseTimeMicroseconds = Number(time[1]);
    if (/no data received|Connection failed|Timeout|Cannot send get request|Error connecting/i.test(text)) {
      result.problems.push({ code: "genhash-failed", severity: "error", message: `genhash: ${text}`, line: index + 1, text: raw });
    }
  });
  if (result.digest === undefined && result.problems.length === 0) {
    result.problems.push({
      code: "genhash-no-digest",
      severity: "error",
      message: lines.length === 0 ? "genhash printed nothing (did it reach the web server?)." : "genhash printed no 32-character digest.",
    });
  }
  return result;
}

/** keepalived compares the configured digest with the computed one byte-wise: hex case does not matter. */
export function digestsEqual(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.trim().toLowerCase() === b.trim().toLowerCase();
}

// =======================================================================================
// keepalived -t (config test)

export interface KeepalivedConfigMessage {
  file?: string;
  line?: number;
  message: string;
}

export interface KeepalivedConfigtest {
  /** Distinct messages in order; keepalived repeats each one per child process. */
  messages: KeepalivedConfigMessage[];
}

/**
 * Reads what `keepalived -t -l` prints: "(FILE: Line N) message", "(Line N) message" or a
 * bare message. `keepalived -t` exits 0 when the configuration is clean and non-zero
 * (5 in 2.2.7) for any error or warning, so the exit status decides validity.
 */
export function parseKeepalivedConfigtest(output: string): KeepalivedConfigtest {
  const seen = new Set<string>();
  const messages: KeepalivedConfigMessage[] = [];
  for (const raw of splitLines(typeof output === "string" ? output : "")) {
    const text = raw.replace(/^.*?Keepalived_\w+\[\d+\]:\s*/, "").trim();
    if (text === "") continue;
    const match = /^\((?:(.+?):\s*)?Line (\d+)\)\s*(.*)$/.exec(text);
    const entry: KeepalivedConfigMessage = match ? { line: Number(match[2]), message: (match[3] as string).trim() } : { message: text };
    if (match?.[1] !== undefined) entry.file = match[1];
    // The same message comes with and without the file name; keep the fuller one.
    const key = `${entry.line ?? ""}\u0000${entry.message}`;
    if (seen.has(key)) {
      const earlier = messages.find((message) => message.line === entry.line && message.message === entry.message);
      if (earlier && earlier.file === undefined && entry.file !== undefined) earlier.file = entry.file;
      continue;
    }
    seen.add(key);
    messages.push(entry);
  }
  return { messages };
}
