/**
 * The student's own OpenSSH client configuration (~/.ssh/config, or the spec's `ssh.config`),
 * so `balancer.ssh.host: balancer` reaches what `ssh balancer` reaches: Host aliases, HostName,
 * Port, User, IdentityFile, IdentitiesOnly, IdentityAgent, ProxyJump, UserKnownHostsFile and
 * StrictHostKeyChecking, resolved the way ssh(1) does: the first value obtained wins, Host
 * patterns with `*`, `?` and `!`, Include, `~`, `${VAR}` and the `%` tokens of those options.
 *
 * The text is tokenised by the `ssh-config` package (quoting, `=` separators, sections); its own
 * `compute()` is not used, since it runs `Match exec` commands in a shell and matches `?` as
 * "zero or one". Match blocks are out of scope: their options are not applied and a note says so.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import SSHConfig from "ssh-config";

/** Bounds on what a configuration may make hagrade read. */
export const SSH_CONFIG_LIMITS = {
  maxFileBytes: 256 * 1024,
  maxFiles: 64,
  maxIncludeDepth: 16,
  maxHops: 8,
} as const;

/** The options hagrade uses, in their OpenSSH spelling (lower case for matching). */
const KNOWN = ["hostname", "port", "user", "identityfile", "identitiesonly", "identityagent", "proxyjump", "userknownhostsfile", "stricthostkeychecking"] as const;
type Known = (typeof KNOWN)[number];

interface Directive {
  key: Known;
  values: string[];
  file: string;
  line: number;
}

type Condition = { kind: "always" } | { kind: "host"; patterns: string[] } | { kind: "match"; text: string };

interface Block {
  condition: Condition;
  directives: Directive[];
}

export interface SshConfigDocument {
  /** The file read first ("" when the configuration came from text). */
  file: string;
  blocks: Block[];
  /** Things a reader should know (a Match block ignored, an Include not read, an odd line). */
  notes: string[];
}

export type StrictHostKeyChecking = "yes" | "no" | "accept-new" | "ask";

/** What ssh(1) would use for one destination, as far as hagrade needs it. */
export interface SshConfigHost {
  /** The name asked for (an alias, or an address). */
  alias: string;
  hostName: string;
  port?: number;
  user?: string;
  /** IdentityFile lines in order, expanded to absolute paths. */
  identityFiles: string[];
  identitiesOnly?: boolean;
  /** IdentityAgent: "none", "SSH_AUTH_SOCK" or a socket path (expanded). */
  identityAgent?: string;
  /** Jump hosts in order ([] when ProxyJump is absent or `none`). */
  proxyJump: string[];
  /** UserKnownHostsFile values, expanded. */
  userKnownHostsFiles: string[];
  strictHostKeyChecking?: StrictHostKeyChecking;
  /** Which options a Host block (or the top of the file) set: "HostName" → "config:12". */
  sources: Record<string, string>;
}

export interface SshConfigContext {
  homeDir: string;
  pathApi: path.PlatformPath;
  env: NodeJS.ProcessEnv;
  /** The local user name (%u). */
  localUser: string;
}

export function hostSshConfigContext(): SshConfigContext {
  let localUser = "";
  try {
    localUser = os.userInfo().username;
  } catch {
    localUser = process.env.USER ?? process.env.USERNAME ?? "";
  }
  return { homeDir: os.homedir(), pathApi: path, env: process.env, localUser };
}

/** ~/.ssh/config of this user (or of `context`). */
export function defaultSshConfigPath(context: Pick<SshConfigContext, "homeDir" | "pathApi"> = hostSshConfigContext()): string {
  return context.pathApi.join(context.homeDir, ".ssh", "config");
}

function lowerKey(param: string): string {
  return param.toLowerCase();
}

function isKnown(key: string): key is Known {
  return (KNOWN as readonly string[]).includes(key);
}

type ParsedLine = ReturnType<typeof SSHConfig.parse>[number];

function valuesOf(line: { value?: unknown }): string[] {
  const value = line.value;
  if (typeof value === "string") return value === "" ? [] : [value];
  if (Array.isArray(value)) return value.map((v: { val?: unknown }) => (typeof v?.val === "string" ? v.val : "")).filter((v) => v !== "");
  return [];
}

interface ReadState {
  files: number;
  notes: string[];
  context: SshConfigContext;
}

function readCappedText(file: string): string {
  const info = statSync(file);
  if (!info.isFile()) throw Object.assign(new Error("not a regular file"), { code: "EISDIR" });
  if (info.size > SSH_CONFIG_LIMITS.maxFileBytes) throw Object.assign(new Error(`larger than ${SSH_CONFIG_LIMITS.maxFileBytes} bytes`), { code: "EFBIG" });
  return readFileSync(file, "utf8");
}

function hasGlob(text: string): boolean {
  return /[*?[]/.test(text);
}

/** `*` any run, `?` exactly one character; case-insensitive as OpenSSH matches host names. */
export function wildcardMatch(pattern: string, text: string): boolean {
  const source = pattern.replace(/[\\^$.+()|{}[\]]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, "is").test(text);
}

/** A Host line's patterns against one name: any positive match, and no negated one. */
export function hostPatternsMatch(patterns: readonly string[], name: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith("!")) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** Expands an Include argument to the files it names (sorted, as glob(3) returns them). */
function includeFiles(argument: string, state: ReadState): string[] {
  const { pathApi, homeDir } = state.context;
  let target = argument;
  if (target === "~" || target.startsWith("~/") || (pathApi.sep === "\\" && target.startsWith("~\\"))) target = pathApi.join(homeDir, target.slice(2));
  // Relative includes of a user configuration are relative to ~/.ssh.
  if (!pathApi.isAbsolute(target)) target = pathApi.join(homeDir, ".ssh", target);
  if (!hasGlob(pathApi.basename(target))) return [target];
  const dir = pathApi.dirname(target);
  if (hasGlob(dir)) {
    state.notes.push(`Include ${argument}: globs in folder names are not followed`);
    return [];
  }
  try {
    return readdirSync(dir)
      .filter((name) => wildcardMatch(pathApi.basename(target), name) && !name.startsWith("."))
      .sort()
      .map((name) => pathApi.join(dir, name));
  } catch {
    return [];
  }
}

function collect(lines: readonly ParsedLine[], file: string, blocks: Block[], current: Block, depth: number, state: ReadState, lineNumbers: (line: ParsedLine) => number): Block {
  let block = current;
  for (const line of lines) {
    if (line.type !== SSHConfig.DIRECTIVE) continue;
    const param = (line as { param: string }).param;
    const key = lowerKey(param);
    const lineNo = lineNumbers(line);
    if (key === "host" || key === "match") {
      const values = valuesOf(line);
      block = { condition: key === "host" ? { kind: "host", patterns: values.flatMap((v) => v.split(/\s+/)).filter(Boolean) } : { kind: "match", text: values.join(" ") }, directives: [] };
      if (key === "match") state.notes.push(`${file}:${lineNo}: Match ${values.join(" ")} is not evaluated; its options are not used`);
      blocks.push(block);
      const inner = (line as { config?: ParsedLine[] }).config ?? [];
      block = collect(inner, file, blocks, block, depth, state, lineNumbers);
      continue;
    }
    if (key === "include") {
      if (depth >= SSH_CONFIG_LIMITS.maxIncludeDepth) {
        state.notes.push(`${file}:${lineNo}: Include nested deeper than ${SSH_CONFIG_LIMITS.maxIncludeDepth} levels is not read`);
        continue;
      }
      for (const argument of valuesOf(line)) {
        for (const included of includeFiles(argument, state)) {
          const read = readOne(included, state);
          if (read === undefined) continue;
          // Lines of an included file before its first Host stay under the including block; its
          // Host lines do not change which block the including file's next lines belong to.
          const last = collect(read.lines, included, blocks, block, depth + 1, state, lineIndex(read.text));
          if (last !== block) {
            block = { condition: block.condition, directives: [] };
            blocks.push(block);
          }
        }
      }
      continue;
    }
    if (!isKnown(key)) continue;
    block.directives.push({ key, values: valuesOf(line), file, line: lineNo });
  }
  return block;
}

/** Line numbers of parsed lines: ssh-config keeps each line's leading text, not its position. */
function lineIndex(text: string): (line: ParsedLine) => number {
  const lines = text.split(/\r?\n/);
  const used = new Set<number>();
  return (line) => {
    const param = (line as { param?: string }).param ?? "";
    const at = lines.findIndex((l, i) => !used.has(i) && l.trimStart().toLowerCase().startsWith(param.toLowerCase()));
    if (at < 0) return 0;
    used.add(at);
    return at + 1;
  };
}

function readOne(file: string, state: ReadState): { lines: ParsedLine[]; text: string } | undefined {
  if (state.files >= SSH_CONFIG_LIMITS.maxFiles) {
    state.notes.push(`${file}: not read (more than ${SSH_CONFIG_LIMITS.maxFiles} configuration files)`);
    return undefined;
  }
  state.files += 1;
  let text: string;
  try {
    text = readCappedText(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    if (code !== "ENOENT") state.notes.push(`${file}: not read (${code})`);
    return undefined;
  }
  return { lines: parseText(text, file, state.notes), text };
}

function parseText(text: string, file: string, notes: string[]): ParsedLine[] {
  try {
    return [...SSHConfig.parse(text)];
  } catch (error) {
    notes.push(`${file}: not understood (${error instanceof Error ? error.message : String(error)})`);
    return [];
  }
}

/** Parses configuration text (Include lines are read from disk, bounded). */
export function parseSshConfigText(text: string, options: { file?: string; context?: SshConfigContext } = {}): SshConfigDocument {
  const file = options.file ?? "";
  const state: ReadState = { files: 1, notes: [], context: options.context ?? hostSshConfigContext() };
  const blocks: Block[] = [];
  const top: Block = { condition: { kind: "always" }, directives: [] };
  blocks.push(top);
  collect(parseText(text, file || "config", state.notes), file || "config", blocks, top, 0, state, lineIndex(text));
  return { file, blocks, notes: state.notes };
}

/**
 * Reads a configuration file; a missing file is an empty configuration (OpenSSH does the same
 * for ~/.ssh/config). `undefined` comes back only when `required` and the file is unreadable.
 */
export function readSshConfig(file: string, options: { context?: SshConfigContext; required?: boolean } = {}): SshConfigDocument | { error: string } {
  const context = options.context ?? hostSshConfigContext();
  let text: string;
  try {
    text = readCappedText(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    if (code === "ENOENT" && !options.required) return { file, blocks: [], notes: [] };
    return { error: `${file}: ${code === "ENOENT" ? "no such file" : code === "EFBIG" ? `larger than ${SSH_CONFIG_LIMITS.maxFileBytes} bytes` : code}` };
  }
  return parseSshConfigText(text, { file, context });
}

function blockApplies(block: Block, alias: string): boolean {
  switch (block.condition.kind) {
    case "always":
      return true;
    case "host":
      return hostPatternsMatch(block.condition.patterns, alias);
    case "match":
      return false;
  }
}

interface Tokens {
  alias: string;
  hostName: string;
  port?: number;
  user?: string;
}

/** `%` tokens (ssh_config TOKENS), `${VAR}` and a leading `~`, for file-valued options. */
function expandPath(value: string, tokens: Tokens, context: SshConfigContext): string {
  const { pathApi, homeDir, env } = context;
  let out = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? "");
  out = out.replace(/%([%dhnpru])/g, (_, token: string) => {
    switch (token) {
      case "%":
        return "%";
      case "d":
        return homeDir;
      case "h":
        return tokens.hostName;
      case "n":
        return tokens.alias;
      case "p":
        return String(tokens.port ?? 22);
      case "r":
        return tokens.user ?? context.localUser;
      case "u":
        return context.localUser;
      default:
        return token;
    }
  });
  if (out === "~") return pathApi.normalize(homeDir);
  if (out.startsWith("~/") || (pathApi.sep === "\\" && out.startsWith("~\\"))) return pathApi.join(homeDir, out.slice(2));
  // Relative paths are relative to the home folder in ssh_config (IdentityFile, known hosts).
  if (!pathApi.isAbsolute(out) && !/^[\\/]{2}[.?][\\/]pipe[\\/]/i.test(out)) return pathApi.join(homeDir, out);
  return out;
}

function yesNo(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === "yes" || v === "true") return true;
  if (v === "no" || v === "false") return false;
  return undefined;
}

function strictness(value: string | undefined): StrictHostKeyChecking | undefined {
  switch (value?.toLowerCase()) {
    case "yes":
    case "true":
      return "yes";
    case "no":
    case "off":
    case "false":
      return "no";
    case "accept-new":
      return "accept-new";
    case "ask":
      return "ask";
    default:
      return undefined;
  }
}

/** Resolves one destination as ssh(1) would: for each option, the first value obtained wins. */
export function resolveSshConfigHost(document: SshConfigDocument, alias: string, context: SshConfigContext = hostSshConfigContext()): SshConfigHost {
  const first = new Map<Known, Directive>();
  const identityFiles: Directive[] = [];
  for (const block of document.blocks) {
    if (!blockApplies(block, alias)) continue;
    for (const directive of block.directives) {
      if (directive.key === "identityfile") identityFiles.push(directive);
      else if (!first.has(directive.key)) first.set(directive.key, directive);
    }
  }
  const value = (key: Known): string | undefined => first.get(key)?.values[0];
  const sources: Record<string, string> = {};
  const note = (name: string, key: Known) => {
    const d = first.get(key);
    if (d) sources[name] = `${d.file}:${d.line}`;
  };
  const rawHostName = value("hostname");
  const hostName = rawHostName === undefined ? alias : rawHostName.replace(/%(%|h)/g, (_, t: string) => (t === "%" ? "%" : alias));
  note("HostName", "hostname");
  const portText = value("port");
  const port = portText !== undefined && /^\d{1,5}$/.test(portText) && Number(portText) >= 1 && Number(portText) <= 65_535 ? Number(portText) : undefined;
  note("Port", "port");
  const user = value("user");
  note("User", "user");
  const tokens: Tokens = { alias, hostName, ...(port !== undefined ? { port } : {}), ...(user !== undefined ? { user } : {}) };
  const resolved: SshConfigHost = {
    alias,
    hostName,
    identityFiles: identityFiles.flatMap((d) => d.values.slice(0, 1)).filter((v) => v.toLowerCase() !== "none").map((v) => expandPath(v, tokens, context)),
    proxyJump: [],
    userKnownHostsFiles: (first.get("userknownhostsfile")?.values ?? []).filter((v) => v.toLowerCase() !== "none").map((v) => expandPath(v, tokens, context)),
    sources,
  };
  if (identityFiles[0]) sources.IdentityFile = `${identityFiles[0].file}:${identityFiles[0].line}`;
  note("UserKnownHostsFile", "userknownhostsfile");
  if (port !== undefined) resolved.port = port;
  if (user !== undefined) resolved.user = user;
  const only = yesNo(value("identitiesonly"));
  if (only !== undefined) resolved.identitiesOnly = only;
  const agent = value("identityagent");
  if (agent !== undefined) {
    resolved.identityAgent = agent === "none" || agent === "SSH_AUTH_SOCK" ? agent : agent.startsWith("$") ? (context.env[agent.slice(1)] ?? "none") : expandPath(agent, tokens, context);
    note("IdentityAgent", "identityagent");
  }
  const jump = value("proxyjump");
  if (jump !== undefined) {
    // `none` is noted too: it says "connect directly", which is not the same as saying nothing.
    if (jump.toLowerCase() !== "none") resolved.proxyJump = jump.split(",").map((hop) => hop.trim()).filter(Boolean).slice(0, SSH_CONFIG_LIMITS.maxHops);
    note("ProxyJump", "proxyjump");
  }
  const strict = strictness(value("stricthostkeychecking"));
  if (strict !== undefined) {
    resolved.strictHostKeyChecking = strict;
    note("StrictHostKeyChecking", "stricthostkeychecking");
  }
  return resolved;
}

/** One ProxyJump hop, `[user@]host[:port]` (or an ssh:// URI), as ssh(1) reads it. */
export function parseJumpHop(hop: string): { user?: string; host: string; port?: number } | undefined {
  const text = hop.replace(/^ssh:\/\//i, "");
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s]+)(?::(\d{1,5}))?$/.exec(text);
  if (!m) return undefined;
  const host = m[2]!.replace(/^\[|\]$/g, "");
  const port = m[3] !== undefined ? Number(m[3]) : undefined;
  if (port !== undefined && (port < 1 || port > 65_535)) return undefined;
  return { host, ...(m[1] !== undefined ? { user: m[1] } : {}), ...(port !== undefined ? { port } : {}) };
}
