/**
 * Readers of what Apache tells about itself over SSH: `apache2ctl -M` (loaded modules),
 * `apache2ctl -S` (virtual hosts), `apache2ctl -t` (config test), and a reader of the
 * reverse-proxy site file itself, since `-S` does not list BalancerMembers.
 */

import {
  dirnamePosix,
  isIpv4,
  isIpv6,
  matchFetchedFiles,
  resolvePosix,
  splitLines,
  type FetchedFile,
  type InspectProblem,
  type SourceRef,
  type UnparsedLine,
} from "./common.js";

// =======================================================================================
// apache2ctl -M / apachectl -M / httpd -M

export interface ApacheModuleEntry {
  /** As listed, e.g. "proxy_balancer_module". */
  name: string;
  /** Without the "_module" suffix, e.g. "proxy_balancer" (the name a2enmod takes). */
  shortName: string;
  kind: "static" | "shared";
  line: number;
}

export interface ApacheModules {
  /** Short names ("proxy_balancer") of every listed module. */
  modules: ReadonlySet<string>;
  entries: ApacheModuleEntry[];
  /** True when the output says the action failed (the config did not parse: no list). */
  failed: boolean;
  /** Apache's own messages mixed into the output (AH00558 when stderr was merged, ...). */
  notices: string[];
  unparsed: UnparsedLine[];
}

/** Lines Apache prints around a listing that are not part of it. */
const APACHE_NOISE = [
  /^Loaded Modules:\s*$/i,
  /^Compiled in modules:\s*$/i,
  /^Syntax OK\s*$/i,
  /^The Apache error log may have more information\.?\s*$/i,
];

function isApacheNotice(text: string): boolean {
  return /^\s*AH\d{5}:/.test(text) || /^\[[^\]]+\] \[[^\]]+\]/.test(text) || /^\S+: Could not reliably/.test(text);
}

export function parseApacheModules(stdout: string): ApacheModules {
  const entries: ApacheModuleEntry[] = [];
  const notices: string[] = [];
  const unparsed: UnparsedLine[] = [];
  let failed = false;
  splitLines(typeof stdout === "string" ? stdout : "").forEach((text, index) => {
    const line = index + 1;
    if (text.trim() === "" || APACHE_NOISE.some((re) => re.test(text.trim()))) return;
    if (/^Action '.*' failed\.?\s*$/.test(text.trim())) {
      failed = true;
      return;
    }
    if (isApacheNotice(text)) {
      notices.push(text.trim());
      return;
    }
    const listed = /^\s*([A-Za-z0-9_.-]+)\s+\((static|shared)\)\s*$/.exec(text);
    if (listed) {
      const name = listed[1] as string;
      entries.push({ name, shortName: apacheModuleShortName(name), kind: listed[2] as "static" | "shared", line });
      return;
    }
    // `httpd -l` lists compiled-in modules by source file ("  mod_so.c").
    const compiled = /^\s+([A-Za-z0-9_]+)\.c\s*$/.exec(text);
    if (compiled) {
      const name = compiled[1] as string;
      entries.push({ name, shortName: apacheModuleShortName(name), kind: "static", line });
      return;
    }
    unparsed.push({ line, text });
  });
  return { modules: new Set(entries.map((entry) => entry.shortName)), entries, failed, notices, unparsed };
}

/**
 * The short name of a module however it is written: "proxy_balancer_module",
 * "mod_proxy_balancer", "mod_proxy_balancer.so", "mod_proxy_balancer.c", "proxy_balancer".
 */
export function apacheModuleShortName(name: string): string {
  return name
    .trim()
    .replace(/^.*\//, "")
    .replace(/\.(so|c|load)$/i, "")
    .replace(/^mod_/i, "")
    .replace(/_module$/i, "")
    .toLowerCase();
}

export function hasApacheModule(modules: ApacheModules | ReadonlySet<string>, name: string): boolean {
  const set = modules instanceof Set ? modules : (modules as ApacheModules).modules;
  return set.has(apacheModuleShortName(name));
}

// =======================================================================================
// apache2ctl -t (configtest)

export interface ApacheSyntaxError {
  /** Apache's explanation, e.g. "Invalid command 'Header', perhaps misspelled ...". */
  message: string;
  /** The innermost file and line Apache blames. */
  file?: string;
  line?: number;
  /** Files that included it, outermost first ("Syntax error on line 6 of lab.conf: ..."). */
  includedFrom: SourceRef[];
  /** For "Invalid command 'X'": the X Apache did not know. */
  invalidCommand?: string;
}

export interface ApacheConfigtest {
  syntaxOk: boolean;
  errors: ApacheSyntaxError[];
  notices: string[];
  unparsed: UnparsedLine[];
}

/** Reads stdout and stderr of `apache2ctl -t` / `apachectl configtest` (pass them joined). */
export function parseApacheConfigtest(output: string): ApacheConfigtest {
  const lines = splitLines(typeof output === "string" ? output : "");
  const errors: ApacheSyntaxError[] = [];
  const notices: string[] = [];
  const unparsed: UnparsedLine[] = [];
  let syntaxOk = false;
  for (let i = 0; i < lines.length; i++) {
    const text = (lines[i] as string).trim();
    if (text === "") continue;
    if (/^Syntax OK$/i.test(text)) {
      syntaxOk = true;
      continue;
    }
    if (/^Action '.*' failed\.?$/.test(text) || APACHE_NOISE.some((re) => re.test(text))) continue;
    if (/Syntax error on line \d+ of /.test(text)) {
      const chain: SourceRef[] = [];
      const re = /Syntax error on line (\d+) of (.+?):(?=\s|$)/g;
      let match: RegExpExecArray | null;
      let rest = text;
      let lastEnd = 0;
      while ((match = re.exec(text)) !== null) {
        chain.push({ file: match[2] as string, line: Number(match[1]) });
        lastEnd = re.lastIndex;
      }
      rest = text.slice(lastEnd).trim();
      // "AH00526: Syntax error on line 3 of f:" puts the explanation on the next line.
      if (rest === "" && i + 1 < lines.length) {
        rest = (lines[i + 1] as string).trim();
        i++;
      }
      const innermost = chain.pop();
      const error: ApacheSyntaxError = { message: rest, includedFrom: chain };
      if (innermost) {
        error.file = innermost.file;
        error.line = innermost.line;
      }
      const invalid = /^Invalid command '([^']*)'/.exec(rest);
      if (invalid) error.invalidCommand = invalid[1] as string;
      errors.push(error);
      continue;
    }
    if (isApacheNotice(text)) {
      notices.push(text);
      continue;
    }
    unparsed.push({ line: i + 1, text: lines[i] as string });
  }
  return { syntaxOk: syntaxOk && errors.length === 0, errors, notices, unparsed };
}

// =======================================================================================
// apache2ctl -S

export interface ApacheVhostEntry {
  /** The address part of the listen key: "127.0.0.10", "*", "[::1]". */
  address: string;
  port?: number;
  serverName: string;
  aliases: string[];
  file?: string;
  line?: number;
  /** Listed under "is a NameVirtualHost" (several vhosts share the address). */
  nameBased: boolean;
  /** The vhost Apache uses when no ServerName matches on that address. */
  isDefault: boolean;
  /** Line of the -S output it came from. */
  outputLine: number;
}

export interface ApacheRunConfig {
  vhosts: ApacheVhostEntry[];
  serverRoot?: string;
  mainDocumentRoot?: string;
  mainErrorLog?: string;
  pidFile?: string;
  user?: string;
  group?: string;
  defines: Record<string, string | true>;
  unparsed: UnparsedLine[];
}

const ADDRESS_PORT = String.raw`(\[[^\]]+\]|[^\s\[\]]+?):(\d+|\*)`;
const VHOST_SOURCE = String.raw`\((.+):(\d+)\)`;

function portOf(text: string): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : undefined;
}

export function parseApacheVhosts(stdout: string): ApacheRunConfig {
  const result: ApacheRunConfig = { vhosts: [], defines: {}, unparsed: [] };
  let nameBasedAddress: { address: string; port?: number } | undefined;
  const defaults: Array<{ address: string; port?: number; serverName: string; file: string; line: number; outputLine: number }> = [];
  const single = new RegExp(`^${ADDRESS_PORT}\\s+(\\S+)\\s+${VHOST_SOURCE}\\s*$`);
  const nameBasedHeader = new RegExp(`^${ADDRESS_PORT}\\s+is a NameVirtualHost\\s*$`);
  const defaultServer = new RegExp(`^\\s+default server (\\S+) ${VHOST_SOURCE}\\s*$`);
  const nameVhost = new RegExp(`^\\s+port (\\d+|\\*) namevhost (\\S+) ${VHOST_SOURCE}\\s*$`);
  splitLines(typeof stdout === "string" ? stdout : "").forEach((raw, index) => {
    const line = index + 1;
    const text = raw.replace(/\s+$/, "");
    if (text.trim() === "" || /^VirtualHost configuration:$/i.test(text.trim()) || isApacheNotice(text)) return;
    let match: RegExpExecArray | null;
    if ((match = nameBasedHeader.exec(text))) {
      nameBasedAddress = { address: match[1] as string, port: portOf(match[2] as string) };
      return;
    }
    if ((match = defaultServer.exec(text)) && nameBasedAddress) {
      defaults.push({ ...nameBasedAddress, serverName: match[1] as string, file: match[2] as string, line: Number(match[3]), outputLine: line });
      return;
    }
    if ((match = nameVhost.exec(text)) && nameBasedAddress) {
      result.vhosts.push({
        address: nameBasedAddress.address,
        port: portOf(match[1] as string) ?? nameBasedAddress.port,
        serverName: match[2] as string,
        aliases: [],
        file: match[3] as string,
        line: Number(match[4]),
        nameBased: true,
        isDefault: false,
        outputLine: line,
      });
      return;
    }
    if ((match = /^\s+(?:wild)?alias (\S+)$/.exec(text))) {
      const last = result.vhosts[result.vhosts.length - 1];
      if (last) last.aliases.push(match[1] as string);
      else result.unparsed.push({ line, text: raw });
      return;
    }
    if ((match = single.exec(text))) {
      nameBasedAddress = undefined;
      result.vhosts.push({
        address: match[1] as string,
        port: portOf(match[2] as string),
        serverName: match[3] as string,
        aliases: [],
        file: match[4] as string,
        line: Number(match[5]),
        nameBased: false,
        isDefault: true,
        outputLine: line,
      });
      return;
    }
    if ((match = /^(ServerRoot|Main DocumentRoot|Main ErrorLog|PidFile):\s*"(.*)"$/.exec(text))) {
      const value = match[2] as string;
      nameBasedAddress = undefined;
      if (match[1] === "ServerRoot") result.serverRoot = value;
      else if (match[1] === "Main DocumentRoot") result.mainDocumentRoot = value;
      else if (match[1] === "Main ErrorLog") result.mainErrorLog = value;
      else result.pidFile = value;
      return;
    }
    if ((match = /^(User|Group):\s*name="([^"]*)"/.exec(text))) {
      if (match[1] === "User") result.user = match[2] as string;
      else result.group = match[2] as string;
      return;
    }
    if ((match = /^Define:\s*([^=\s]+)(?:=(.*))?$/.exec(text))) {
      result.defines[match[1] as string] = match[2] ?? true;
      return;
    }
    if (/^Mutex\s/.test(text)) return;
    result.unparsed.push({ line, text: raw });
  });
  for (const chosen of defaults) {
    const same = result.vhosts.find(
      (vhost) => vhost.nameBased && vhost.address === chosen.address && vhost.file === chosen.file && vhost.line === chosen.line,
    );
    if (same) same.isDefault = true;
    else {
      result.vhosts.push({
        address: chosen.address,
        port: chosen.port,
        serverName: chosen.serverName,
        aliases: [],
        file: chosen.file,
        line: chosen.line,
        nameBased: true,
        isDefault: true,
        outputLine: chosen.outputLine,
      });
    }
  }
  return result;
}

// =======================================================================================
// The configuration files themselves

export interface ApacheDirective {
  /** As written ("ProxyPass", "PROXYPASS"); for sections without the angle brackets. */
  name: string;
  /** Lower-case name: Apache matches directives case-insensitively. */
  key: string;
  args: string[];
  /** Section such as <VirtualHost>, <Proxy>, <IfModule>. */
  isSection: boolean;
  children: ApacheDirective[];
  file: string;
  line: number;
  /** Last line of a section (its closing tag) or of a continued directive. */
  endLine: number;
  /** The logical line as written, continuations joined with a space. */
  text: string;
}

export interface ApacheIncludeRequest {
  /** As written after Include/IncludeOptional. */
  pattern: string;
  /** Made absolute against ServerRoot when it is known (glob characters kept). */
  resolved: string;
  optional: boolean;
  from: SourceRef;
}

/** Returns the files an Include names (already read from the machine), or why it cannot. */
export type ApacheIncludeReader = (request: ApacheIncludeRequest) => FetchedFile[] | { error: string };

export interface ApacheConfigOptions {
  /** Path of the text being parsed, for evidence ("/etc/apache2/sites-enabled/proxy-inverso.conf"). */
  file: string;
  /** Base of relative Include paths; a ServerRoot directive in the text overrides it. */
  serverRoot?: string;
  readInclude?: ApacheIncludeReader;
  /**
   * Short names of loaded modules (from `apache2ctl -M`) to decide <IfModule> blocks;
   * without it every block is read, as if its module were loaded.
   */
  loadedModules?: ReadonlySet<string>;
  /** Nested Include depth at which reading stops (Apache's own limit is 128). */
  maxIncludeDepth?: number;
}

export interface ApacheBalancerMember {
  url: string;
  scheme: string;
  host: string;
  /** Effective port: the URL's, or the scheme's default (http 80, https 443, ajp 8009). */
  port: number | undefined;
  explicitPort: boolean;
  path: string;
  /** key=value parameters, keys in lower case (Apache compares them case-insensitively). */
  params: Record<string, string>;
  /** Apache's default load factor is 1. */
  loadfactor: number;
  route?: string;
  /** Seconds a failed member stays out before Apache retries it (default 60). */
  retry?: number;
  status?: string;
  file: string;
  line: number;
  text: string;
}

export interface ApacheBalancer {
  /** Lower-case name without the scheme ("micluster"); Apache matches it case-insensitively. */
  name: string;
  /** As first written, e.g. "balancer://micluster". */
  url: string;
  members: ApacheBalancerMember[];
  lbmethod?: string;
  /** Raw stickysession value ("ROUTEID" or "JSESSIONID|jsessionid"). */
  stickysession?: string;
  /** Cookie / path parameter names of stickysession. */
  stickySessionNames: string[];
  /** Balancer parameters from ProxySet and from ProxyPass lines that use the balancer. */
  params: Record<string, string>;
  /** Where each balancer parameter was set. */
  paramSources: Record<string, SourceRef>;
  /** The <Proxy balancer://...> section, if any. */
  definedAt?: SourceRef;
  /** ProxyPass / ProxyPassReverse lines naming the balancer. */
  referencedAt: SourceRef[];
}

export interface ApacheProxyPass {
  directive: "ProxyPass" | "ProxyPassMatch" | "ProxyPassReverse";
  /** Local path (absent inside <Location>, where the location is the path). */
  path?: string;
  url: string;
  /** "ProxyPass /static !": the path is excluded from proxying. */
  excluded: boolean;
  params: Record<string, string>;
  balancerName?: string;
  /** Arguments of the enclosing <VirtualHost>, if any (e.g. "127.0.0.10:80"). */
  virtualHost?: string;
  location?: string;
  file: string;
  line: number;
  text: string;
}

export interface ApacheHeaderDirective {
  /** "always" / "onsuccess" when given before the action. */
  condition?: string;
  /** Lower-case action: set, add, append, merge, unset, edit, echo, note, setifempty ... */
  action: string;
  header?: string;
  value?: string;
  /** env=[!]VAR condition. */
  env?: { name: string; negated: boolean };
  expr?: string;
  early: boolean;
  virtualHost?: string;
  file: string;
  line: number;
  text: string;
}

/** A Set-Cookie header that carries the balancer route, as the lab's persistence step writes. */
export interface ApacheRouteCookie {
  cookieName: string;
  /** Cookie value template, e.g. ".%{BALANCER_WORKER_ROUTE}e". */
  valueTemplate: string;
  usesWorkerRoute: boolean;
  /** Text before the route: mod_proxy_balancer takes the route after the first ".". */
  routePrefix: string;
  path?: string;
  attributes: Record<string, string | true>;
  /** The condition as written, e.g. "env=BALANCER_ROUTE_CHANGED". */
  condition?: string;
  /** Sent only when the balancer picked a new route (env=BALANCER_ROUTE_CHANGED). */
  onlyWhenRouteChanges: boolean;
  header: ApacheHeaderDirective;
}

export interface ApacheVirtualHostSection {
  addresses: string[];
  serverName?: string;
  serverAliases: string[];
  file: string;
  line: number;
}

export interface ApacheConfig {
  directives: ApacheDirective[];
  /** Every file read, the main one first. */
  files: string[];
  virtualHosts: ApacheVirtualHostSection[];
  balancers: ApacheBalancer[];
  proxyPasses: ApacheProxyPass[];
  proxyPassReverses: ApacheProxyPass[];
  headers: ApacheHeaderDirective[];
  routeCookies: ApacheRouteCookie[];
  problems: InspectProblem[];
}

/** Words of ProxyPass/BalancerMember/ProxySet parameters, to recognise them on stray lines. */
const PROXY_PARAMETER_NAMES = new Set([
  "lbmethod", "stickysession", "stickysessionsep", "scolonpathdelim", "nofailover", "maxattempts",
  "failonstatus", "failontimeout", "forcerecovery", "growth", "timeout", "loadfactor", "route",
  "retry", "status", "redirect", "lbset", "min", "max", "smax", "ttl", "acquire", "connectiontimeout",
  "disablereuse", "enablereuse", "flushpackets", "keepalive", "ping", "hcmethod", "hcuri", "hcinterval",
]);

/** Balancer-wide parameters a ProxyPass line may carry for its balancer. */
const BALANCER_PARAMETERS = new Set([
  "lbmethod", "stickysession", "stickysessionsep", "scolonpathdelim", "nofailover", "maxattempts",
  "failonstatus", "failontimeout", "forcerecovery", "growth", "timeout",
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

function parseParams(args: readonly string[]): { params: Record<string, string>; invalid: string[] } {
  const params: Record<string, string> = {};
  const invalid: string[] = [];
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) invalid.push(arg);
    else params[arg.slice(0, eq).toLowerCase()] = arg.slice(eq + 1);
  }
  return { params, invalid };
}

/** "balancer://MiCluster/" → "micluster"; undefined for other URLs. */
export function balancerNameOf(url: string): string | undefined {
  const match = /^balancer:\/\/([^/]+)/i.exec(url.trim());
  return match ? (match[1] as string).toLowerCase() : undefined;
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, ajp: 8009, ws: 80, wss: 443, fcgi: 8000, h2c: 80, h2: 443 };

function parseMemberUrl(url: string): { scheme: string; host: string; port: number | undefined; explicitPort: boolean; path: string } {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(\[[^\]]+\]|[^/:]*)(?::(\d*))?(\/.*)?$/.exec(url.trim());
  if (!match) return { scheme: "", host: url, port: undefined, explicitPort: false, path: "" };
  const scheme = (match[1] as string).toLowerCase();
  const host = (match[2] as string).replace(/^\[|\]$/g, "");
  const explicitPort = match[3] !== undefined && match[3] !== "";
  return {
    scheme,
    host,
    port: explicitPort ? Number(match[3]) : DEFAULT_PORTS[scheme],
    explicitPort,
    path: match[4] ?? "",
  };
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
}

function ifModuleHolds(args: readonly string[], loaded: ReadonlySet<string> | undefined): boolean {
  if (!loaded) return true;
  const arg = args[0] ?? "";
  const negated = arg.startsWith("!");
  const has = loaded.has(apacheModuleShortName(negated ? arg.slice(1) : arg));
  return negated ? !has : has;
}

function parseFile(text: string, file: string, state: ParseState, depth: number): ApacheDirective[] {
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
      directive.children.push(...readIncluded(directive, state, depth));
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

function readIncluded(directive: ApacheDirective, state: ParseState, depth: number): ApacheDirective[] {
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
    children.push(...parseFile(included.text, included.path, state, depth + 1));
  }
  return children;
}

interface WalkContext {
  virtualHost?: ApacheDirective;
  proxy?: ApacheDirective;
  location?: ApacheDirective;
}

function walk(
  directives: readonly ApacheDirective[],
  context: WalkContext,
  loaded: ReadonlySet<string> | undefined,
  visit: (directive: ApacheDirective, context: WalkContext) => void,
): void {
  for (const directive of directives) {
    if (directive.isSection) {
      if (directive.key === "ifmodule" && !ifModuleHolds(directive.args, loaded)) continue;
      const inner: WalkContext = { ...context };
      if (directive.key === "virtualhost") inner.virtualHost = directive;
      else if (directive.key === "proxy" || directive.key === "proxymatch") inner.proxy = directive;
      else if (directive.key === "location" || directive.key === "locationmatch") inner.location = directive;
      visit(directive, context);
      walk(directive.children, inner, loaded, visit);
    } else {
      visit(directive, context);
      if (directive.children.length > 0) walk(directive.children, context, loaded, visit);
    }
  }
}

function ref(directive: ApacheDirective): SourceRef {
  return { file: directive.file, line: directive.line };
}

function parseHeader(directive: ApacheDirective, context: WalkContext): ApacheHeaderDirective | undefined {
  const args = [...directive.args];
  const header: Partial<ApacheHeaderDirective> = { early: false, file: directive.file, line: directive.line, text: directive.text };
  if (context.virtualHost) header.virtualHost = context.virtualHost.args.join(" ");
  if (args[0] && /^(always|onsuccess)$/i.test(args[0])) header.condition = (args.shift() as string).toLowerCase();
  const action = args.shift();
  if (!action) return undefined;
  header.action = action.toLowerCase();
  header.header = args.shift();
  const takesValue = !["unset", "echo"].includes(header.action);
  if (takesValue && args.length > 0 && !/^(env=|expr=|early$)/i.test(args[0] as string)) header.value = args.shift();
  if (header.action === "edit" || header.action === "edit*") args.shift();
  for (const arg of args) {
    if (/^early$/i.test(arg)) header.early = true;
    else if (/^env=/i.test(arg)) {
      const name = arg.slice(4);
      header.env = { name: name.replace(/^!/, ""), negated: name.startsWith("!") };
    } else if (/^expr=/i.test(arg)) header.expr = arg.slice(5);
  }
  return header as ApacheHeaderDirective;
}

function routeCookieOf(header: ApacheHeaderDirective): ApacheRouteCookie | undefined {
  if (!header.header || header.header.toLowerCase() !== "set-cookie" || header.value === undefined) return undefined;
  if (!["set", "add", "append", "merge", "setifempty"].includes(header.action)) return undefined;
  const [first, ...attributeParts] = header.value.split(";");
  const eq = (first ?? "").indexOf("=");
  if (eq <= 0) return undefined;
  const cookieName = (first as string).slice(0, eq).trim();
  const valueTemplate = (first as string).slice(eq + 1).trim();
  const attributes: Record<string, string | true> = {};
  for (const part of attributeParts) {
    const trimmed = part.trim();
    if (trimmed === "") continue;
    const at = trimmed.indexOf("=");
    if (at < 0) attributes[trimmed.toLowerCase()] = true;
    else attributes[trimmed.slice(0, at).trim().toLowerCase()] = trimmed.slice(at + 1).trim();
  }
  const routeAt = valueTemplate.search(/%\{BALANCER_WORKER_ROUTE\}e/);
  const cookie: ApacheRouteCookie = {
    cookieName,
    valueTemplate,
    usesWorkerRoute: routeAt >= 0,
    routePrefix: routeAt >= 0 ? valueTemplate.slice(0, routeAt) : "",
    attributes,
    onlyWhenRouteChanges: header.env !== undefined && !header.env.negated && header.env.name === "BALANCER_ROUTE_CHANGED",
    header,
  };
  if (typeof attributes.path === "string") cookie.path = attributes.path;
  if (header.env) cookie.condition = `env=${header.env.negated ? "!" : ""}${header.env.name}`;
  else if (header.expr !== undefined) cookie.condition = `expr=${header.expr}`;
  return cookie;
}

/**
 * Reads an Apache configuration text (a site file such as the lab's proxy-inverso.conf, or
 * apache2.conf with its Includes) into directives and the reverse-proxy facts the lab grades.
 */
export function parseApacheConfig(text: string, options: ApacheConfigOptions): ApacheConfig {
  const file = options?.file ?? "(config)";
  const state: ParseState = { options: { ...options, file }, problems: [], files: [file] };
  const directives = parseFile(typeof text === "string" ? text : "", file, state, 0);
  const config: ApacheConfig = {
    directives,
    files: state.files,
    virtualHosts: [],
    balancers: [],
    proxyPasses: [],
    proxyPassReverses: [],
    headers: [],
    routeCookies: [],
    problems: state.problems,
  };
  const balancers = new Map<string, ApacheBalancer>();
  const balancerFor = (url: string): ApacheBalancer | undefined => {
    const name = balancerNameOf(url);
    if (!name) return undefined;
    let balancer = balancers.get(name);
    if (!balancer) {
      const written = /^(balancer:\/\/[^/]+)/i.exec(url.trim());
      balancer = {
        name,
        url: written ? (written[1] as string) : url,
        members: [],
        stickySessionNames: [],
        params: {},
        paramSources: {},
        referencedAt: [],
      };
      balancers.set(name, balancer);
    }
    return balancer;
  };
  const setBalancerParams = (balancer: ApacheBalancer, params: Record<string, string>, directive: ApacheDirective, onlyBalancerWide: boolean): void => {
    for (const [key, value] of Object.entries(params)) {
      if (onlyBalancerWide && !BALANCER_PARAMETERS.has(key)) continue;
      balancer.params[key] = value;
      balancer.paramSources[key] = ref(directive);
    }
  };

  walk(directives, {}, options?.loadedModules, (directive, context) => {
    switch (directive.key) {
      case "virtualhost": {
        const serverName = directive.children.find((child) => child.key === "servername")?.args[0];
        const section: ApacheVirtualHostSection = {
          addresses: directive.args,
          serverAliases: directive.children.filter((child) => child.key === "serveralias").flatMap((child) => child.args),
          file: directive.file,
          line: directive.line,
        };
        if (serverName !== undefined) section.serverName = serverName;
        config.virtualHosts.push(section);
        break;
      }
      case "proxy":
      case "proxymatch": {
        const balancer = directive.args[0] ? balancerFor(directive.args[0]) : undefined;
        if (balancer && !balancer.definedAt) balancer.definedAt = ref(directive);
        break;
      }
      case "balancermember": {
        let args = directive.args;
        let balancer: ApacheBalancer | undefined;
        if (context.proxy && context.proxy.args[0]) balancer = balancerFor(context.proxy.args[0]);
        if (args[0] && balancerNameOf(args[0])) {
          balancer = balancerFor(args[0]);
          args = args.slice(1);
        }
        const url = args[0];
        if (!balancer || !url) {
          config.problems.push({
            code: "balancer-member-outside-balancer",
            severity: "error",
            message: `BalancerMember on line ${directive.line} is neither inside <Proxy balancer://...> nor names a balancer:// as its first argument.`,
            file: directive.file,
            line: directive.line,
            text: directive.text,
          });
          break;
        }
        const { params, invalid } = parseParams(args.slice(1));
        const parsedUrl = parseMemberUrl(url);
        const member: ApacheBalancerMember = {
          url,
          ...parsedUrl,
          params,
          loadfactor: params.loadfactor !== undefined && /^\d+(\.\d+)?$/.test(params.loadfactor) ? Number(params.loadfactor) : 1,
          file: directive.file,
          line: directive.line,
          text: directive.text,
        };
        if (params.route !== undefined) member.route = params.route;
        if (params.retry !== undefined && /^\d+$/.test(params.retry)) member.retry = Number(params.retry);
        if (params.status !== undefined) member.status = params.status;
        balancer.members.push(member);
        for (const bad of invalid) {
          config.problems.push({
            code: "invalid-parameter",
            severity: "error",
            message: `BalancerMember on line ${directive.line} has "${bad}", which is not key=value; Apache rejects the line.`,
            file: directive.file,
            line: directive.line,
            text: directive.text,
          });
        }
        if (!isIpv4(parsedUrl.host) && !isIpv6(parsedUrl.host) && parsedUrl.host.includes("_")) {
          config.problems.push({
            code: "placeholder-host",
            severity: "error",
            message: `BalancerMember on line ${directive.line} points to "${parsedUrl.host}", which is not an IP address nor a valid host name (it looks like the lab text's placeholder). Write the web server's IP address.`,
            file: directive.file,
            line: directive.line,
            text: directive.text,
          });
        }
        break;
      }
      case "proxyset": {
        let args = directive.args;
        let balancer: ApacheBalancer | undefined;
        if (args[0] && balancerNameOf(args[0])) {
          balancer = balancerFor(args[0]);
          args = args.slice(1);
        } else if (context.proxy && context.proxy.args[0]) balancer = balancerFor(context.proxy.args[0]);
        if (balancer) setBalancerParams(balancer, parseParams(args).params, directive, false);
        break;
      }
      case "proxypass":
      case "proxypassmatch":
      case "proxypassreverse": {
        const insideLocation = context.location !== undefined;
        const args = directive.args;
        const path = insideLocation ? undefined : args[0];
        const url = insideLocation ? args[0] : args[1];
        if (url === undefined) {
          config.problems.push({
            code: "proxypass-missing-url",
            severity: "error",
            message: `${directive.name} on line ${directive.line} has no target URL.`,
            file: directive.file,
            line: directive.line,
            text: directive.text,
          });
          break;
        }
        const { params, invalid } = parseParams(args.slice(insideLocation ? 1 : 2));
        const kind = directive.key === "proxypass" ? "ProxyPass" : directive.key === "proxypassmatch" ? "ProxyPassMatch" : "ProxyPassReverse";
        const entry: ApacheProxyPass = {
          directive: kind,
          url,
          excluded: url === "!",
          params,
          file: directive.file,
          line: directive.line,
          text: directive.text,
        };
        if (path !== undefined) entry.path = path;
        if (context.virtualHost) entry.virtualHost = context.virtualHost.args.join(" ");
        if (context.location) entry.location = context.location.args.join(" ");
        const balancer = balancerFor(url);
        if (balancer) {
          entry.balancerName = balancer.name;
          balancer.referencedAt.push(ref(directive));
          if (kind !== "ProxyPassReverse") setBalancerParams(balancer, params, directive, true);
        }
        for (const bad of invalid) {
          config.problems.push({
            code: "invalid-parameter",
            severity: "error",
            message: `${directive.name} on line ${directive.line} has "${bad}", which is not key=value; Apache stops with "Invalid ProxyPass|ProxyPassMatch parameter".`,
            file: directive.file,
            line: directive.line,
            text: directive.text,
          });
        }
        if (kind === "ProxyPass" && path !== undefined && !entry.excluded && path.endsWith("/") !== url.endsWith("/")) {
          config.problems.push({
            code: "proxypass-trailing-slash",
            severity: "warning",
            message: `${directive.name} on line ${directive.line} maps "${path}" to "${url}": one ends in "/" and the other does not, so Apache builds odd back-end paths. End both with "/" or neither.`,
            file: directive.file,
            line: directive.line,
            text: directive.text,
          });
        }
        (kind === "ProxyPassReverse" ? config.proxyPassReverses : config.proxyPasses).push(entry);
        break;
      }
      case "header": {
        const header = parseHeader(directive, context);
        if (!header) break;
        config.headers.push(header);
        const cookie = routeCookieOf(header);
        if (cookie) config.routeCookies.push(cookie);
        break;
      }
      default:
        break;
    }
  });

  for (const balancer of balancers.values()) {
    if (balancer.params.lbmethod !== undefined) balancer.lbmethod = balancer.params.lbmethod;
    if (balancer.params.stickysession !== undefined) {
      balancer.stickysession = balancer.params.stickysession;
      balancer.stickySessionNames = balancer.params.stickysession.split("|").filter((name) => name !== "");
    }
    config.balancers.push(balancer);
  }
  crossCheck(config);
  return config;
}

function crossCheck(config: ApacheConfig): void {
  for (const balancer of config.balancers) {
    const where = balancer.definedAt ?? balancer.referencedAt[0];
    if (balancer.members.length === 0) {
      const first = balancer.referencedAt[0];
      const known = config.balancers.filter((other) => other.members.length > 0).map((other) => other.url);
      config.problems.push({
        code: "balancer-without-members",
        severity: "error",
        message:
          `${balancer.url} has no BalancerMember, so every request through it fails with 503.` +
          (known.length > 0 ? ` The members are defined under ${known.join(", ")}: use the same name in ProxyPass.` : ""),
        ...(first ?? where ?? {}),
      });
    } else if (balancer.referencedAt.length === 0) {
      config.problems.push({
        code: "balancer-not-used",
        severity: "warning",
        message: `${balancer.url} has members but no ProxyPass sends requests to it.`,
        ...(where ?? {}),
      });
    }
    if (balancer.stickySessionNames.length > 0) {
      const cookieNames = new Set(config.routeCookies.map((cookie) => cookie.cookieName));
      const routeCookies = config.routeCookies.filter((cookie) => cookie.usesWorkerRoute);
      if (routeCookies.length > 0 && !balancer.stickySessionNames.some((name) => cookieNames.has(name))) {
        const source = balancer.paramSources.stickysession;
        config.problems.push({
          code: "sticky-cookie-mismatch",
          severity: "error",
          message: `stickysession=${balancer.stickysession} names a cookie the Header line never sets (it sets ${[...cookieNames].join(", ")}); cookie names are case-sensitive, so no request sticks.`,
          ...(source ?? where ?? {}),
        });
      }
      for (const member of balancer.members) {
        if (member.route === undefined) {
          config.problems.push({
            code: "member-without-route",
            severity: "warning",
            message: `BalancerMember ${member.url} on line ${member.line} has no route=, so the sticky cookie can never point at it.`,
            file: member.file,
            line: member.line,
            text: member.text,
          });
        }
      }
    }
  }
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
