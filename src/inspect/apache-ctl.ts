/**
 * What Apache tells about itself over SSH: `apache2ctl -M` (loaded modules), `apache2ctl -t`
 * (config test) and `apache2ctl -S` (virtual hosts).
 */

import { splitLines, type SourceRef, type UnparsedLine } from "./common.js";

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
