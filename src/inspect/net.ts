/**
 * Readers of the balancer's network set-up as SSH brings it back: IPv4 forwarding, the
 * routing table, NAT and FORWARD filtering (nftables JSON or text, iptables), the
 * distribution (os-release) and the process list (is keepalived running?).
 */

import {
  formatIpv4Prefix,
  parseIpv4Prefix,
  parseUnsigned,
  prefixContains,
  prefixesOverlap,
  splitLines,
  type InspectProblem,
  type UnparsedLine,
} from "./common.js";

// =======================================================================================
// IPv4 forwarding: `sysctl -n net.ipv4.ip_forward`, `sysctl net.ipv4.ip_forward`,
// `cat /proc/sys/net/ipv4/ip_forward`

export interface IpForwarding {
  /** undefined when the output does not say (error message, empty output). */
  enabled: boolean | undefined;
  /** The value as printed ("0", "1"). */
  value?: string;
  problems: InspectProblem[];
}

export function parseIpForward(text: string): IpForwarding {
  const lines = splitLines(typeof text === "string" ? text : "").map((line) => line.trim()).filter((line) => line !== "");
  for (const line of lines) {
    const match = /^(?:net\.ipv4\.ip_forward\s*=\s*)?(\d+)$/.exec(line) ?? /^net\/ipv4\/ip_forward\s*=\s*(\d+)$/.exec(line);
    if (match) return { enabled: (match[1] as string) !== "0", value: match[1] as string, problems: [] };
  }
  return {
    enabled: undefined,
    problems: [
      {
        code: "ip-forward-unreadable",
        severity: "error",
        message: lines.length === 0 ? "The command printed nothing where 0 or 1 was expected." : `Expected 0 or 1 but read "${lines[0]}".`,
        ...(lines[0] !== undefined ? { line: 1, text: lines[0] } : {}),
      },
    ],
  };
}

// =======================================================================================
// Routing table: `ip -j route` (preferred) and `ip route`

export interface RouteNexthop {
  gateway?: string;
  dev?: string;
  weight?: number;
}

export interface RouteEntry {
  /** "default" or a prefix such as "10.221.1.0/24" (a bare address for host routes). */
  dst: string;
  /** unicast (the default), blackhole, unreachable, prohibit, local, broadcast ... */
  type: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  table?: string;
  flags: string[];
  /** Multipath routes list their gateways here instead of in `gateway`. */
  nexthops?: RouteNexthop[];
  /** Line of the text output, when read from text. */
  line?: number;
}

export interface RouteTable {
  format: "json" | "text" | "empty";
  routes: RouteEntry[];
  problems: InspectProblem[];
  unparsed: UnparsedLine[];
}

const ROUTE_TYPES = new Set(["unicast", "local", "broadcast", "multicast", "throw", "unreachable", "prohibit", "blackhole", "nat", "anycast"]);

function routeFromJson(value: unknown): RouteEntry | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const raw = value as Record<string, unknown>;
  if (typeof raw.dst !== "string") return undefined;
  const route: RouteEntry = {
    dst: raw.dst,
    type: typeof raw.type === "string" ? raw.type : "unicast",
    flags: Array.isArray(raw.flags) ? raw.flags.filter((flag): flag is string => typeof flag === "string") : [],
  };
  if (typeof raw.gateway === "string") route.gateway = raw.gateway;
  if (typeof raw.dev === "string") route.dev = raw.dev;
  if (typeof raw.protocol === "string") route.protocol = raw.protocol;
  if (typeof raw.scope === "string") route.scope = raw.scope;
  if (typeof raw.prefsrc === "string") route.prefsrc = raw.prefsrc;
  if (typeof raw.metric === "number") route.metric = raw.metric;
  if (typeof raw.table === "string") route.table = raw.table;
  if (Array.isArray(raw.nexthops)) {
    route.nexthops = raw.nexthops
      .filter((hop): hop is Record<string, unknown> => typeof hop === "object" && hop !== null)
      .map((hop) => {
        const nexthop: RouteNexthop = {};
        if (typeof hop.gateway === "string") nexthop.gateway = hop.gateway;
        if (typeof hop.dev === "string") nexthop.dev = hop.dev;
        if (typeof hop.weight === "number") nexthop.weight = hop.weight;
        return nexthop;
      });
  }
  return route;
}

/** Words of `ip route` output that take a value, and the field each fills. */
const ROUTE_KEYS: Record<string, keyof RouteEntry> = {
  via: "gateway",
  dev: "dev",
  proto: "protocol",
  scope: "scope",
  src: "prefsrc",
  metric: "metric",
  table: "table",
};
const ROUTE_VALUE_WORDS = new Set([
  "mtu", "advmss", "expires", "pref", "weight", "realms", "hoplimit", "initcwnd", "initrwnd", "rtt", "rttvar",
  "window", "cwnd", "ssthresh", "features", "quickack", "congctl", "fastopen_no_cookie", "tos", "dsfield",
  "from", "nhid", "rto_min", "ttl-propagate", "encap", "age", "cache", "users", "used",
]);

function routeFromText(text: string, line: number): RouteEntry | undefined {
  const tokens = text.trim().split(/\s+/);
  let index = 0;
  let type = "unicast";
  if (tokens[0] !== undefined && ROUTE_TYPES.has(tokens[0])) {
    type = tokens[0];
    index++;
  }
  const dst = tokens[index++];
  if (dst === undefined || dst === "") return undefined;
  if (dst !== "default" && !/^[0-9A-Fa-f:.]+(\/\d+)?$/.test(dst)) return undefined;
  const route: RouteEntry = { dst, type, flags: [], line };
  while (index < tokens.length) {
    const word = tokens[index++] as string;
    const key = ROUTE_KEYS[word];
    if (key && index < tokens.length) {
      const value = tokens[index++] as string;
      if (key === "metric") {
        const metric = parseUnsigned(value);
        if (metric !== undefined) route.metric = metric;
      } else if (key === "gateway") {
        // "via inet6 fe80::1" names the family first.
        route.gateway = value === "inet" || value === "inet6" ? (tokens[index++] ?? value) : value;
      } else (route as unknown as Record<string, unknown>)[key] = value;
    } else if (ROUTE_VALUE_WORDS.has(word)) {
      if (word === "mtu" && tokens[index] === "lock") index++;
      index++;
    } else route.flags.push(word);
  }
  return route;
}

/** Reads `ip -j route` or `ip route` output (any table, IPv4 or IPv6). */
export function parseIpRoute(text: string): RouteTable {
  const input = typeof text === "string" ? text.trim() : "";
  if (input === "") return { format: "empty", routes: [], problems: [], unparsed: [] };
  if (input.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(input);
      if (Array.isArray(parsed)) {
        const routes: RouteEntry[] = [];
        const unparsed: UnparsedLine[] = [];
        parsed.forEach((item, index) => {
          const route = routeFromJson(item);
          if (route) routes.push(route);
          else unparsed.push({ line: index + 1, text: JSON.stringify(item) });
        });
        return { format: "json", routes, problems: [], unparsed };
      }
    } catch {
      return {
        format: "json",
        routes: [],
        problems: [{ code: "route-json-invalid", severity: "error", message: "The output of `ip -j route` is not valid JSON (cut short?)." }],
        unparsed: [],
      };
    }
  }
  const routes: RouteEntry[] = [];
  const unparsed: UnparsedLine[] = [];
  splitLines(input).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    const nexthop = /^\s+nexthop\s+(.*)$/.exec(raw);
    const last = routes[routes.length - 1];
    if (nexthop && last) {
      const hop = routeFromText(`0.0.0.0/0 ${nexthop[1] as string}`, line);
      const entry: RouteNexthop = {};
      if (hop?.gateway !== undefined) entry.gateway = hop.gateway;
      if (hop?.dev !== undefined) entry.dev = hop.dev;
      const weight = /\bweight\s+(\d+)/.exec(raw);
      if (weight) entry.weight = Number(weight[1]);
      (last.nexthops ??= []).push(entry);
      return;
    }
    const route = routeFromText(raw, line);
    if (route) routes.push(route);
    else unparsed.push({ line, text: raw });
  });
  return { format: "text", routes, problems: [], unparsed };
}

/** The IPv4 default route of the main table, if any (the one with the lowest metric). */
export function defaultRoute(table: RouteTable | readonly RouteEntry[]): RouteEntry | undefined {
  const routes = Array.isArray(table) ? (table as readonly RouteEntry[]) : (table as RouteTable).routes;
  const defaults = routes.filter(
    (route) =>
      (route.dst === "default" || route.dst === "0.0.0.0/0") &&
      route.type === "unicast" &&
      (route.table === undefined || route.table === "main") &&
      !(route.gateway ?? "").includes(":"),
  );
  return defaults.sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))[0];
}

// =======================================================================================
// Firewall: NAT (masquerade / snat) and FORWARD filtering

export type FirewallFormat = "nft-json" | "nft-text" | "iptables" | "empty" | "unknown";

export interface AddressMatch {
  /** Prefixes or addresses as written ("10.221.1.0/24"); several for a set. */
  values: string[];
  negated: boolean;
}

export interface InterfaceMatch {
  names: string[];
  negated: boolean;
}

export type RuleVerdict =
  | "accept" | "drop" | "reject" | "masquerade" | "snat" | "dnat" | "redirect"
  | "jump" | "goto" | "return" | "queue" | "log" | "other";

export interface FirewallRule {
  family: string;
  table: string;
  chain: string;
  verdict?: RuleVerdict;
  /** jump/goto target, SNAT/DNAT address. */
  target?: string;
  saddr?: AddressMatch;
  daddr?: AddressMatch;
  iifname?: InterfaceMatch;
  oifname?: InterfaceMatch;
  /** The rule as written (nft text or iptables line), or rebuilt from JSON. */
  text: string;
  line?: number;
}

export interface FirewallChain {
  family: string;
  table: string;
  name: string;
  /** nftables hook, or the iptables built-in chain it stands for (prerouting, postrouting, forward ...). */
  hook?: string;
  /** nftables chain type (filter, nat, route); iptables: the table name. */
  type?: string;
  policy?: string;
  rules: FirewallRule[];
  line?: number;
}

export interface NatRule extends FirewallRule {
  kind: "masquerade" | "snat";
  hook?: string;
}

export interface ForwardFilter {
  family: string;
  table: string;
  chain: string;
  /** "drop" blocks every forwarded packet no rule accepts (the balancer routes nothing new). */
  policy?: string;
  dropRules: FirewallRule[];
  rejectRules: FirewallRule[];
  /** True when the policy is drop or some rule drops/rejects: the lab asks for no filtering. */
  filters: boolean;
}

export interface FirewallRuleset {
  format: FirewallFormat;
  chains: FirewallChain[];
  natRules: NatRule[];
  forwardFilters: ForwardFilter[];
  problems: InspectProblem[];
  unparsed: UnparsedLine[];
}

const IPTABLES_HOOKS: Record<string, string> = {
  PREROUTING: "prerouting",
  INPUT: "input",
  FORWARD: "forward",
  OUTPUT: "output",
  POSTROUTING: "postrouting",
};

/** Chooses the reader by the text's shape; pass the output of one command at a time. */
export function parseFirewall(text: string): FirewallRuleset {
  const input = typeof text === "string" ? text.trim() : "";
  if (input === "") return finishRuleset("empty", [], [], []);
  if (input.startsWith("{")) return parseNftJson(input);
  const firstLine = splitLines(input).find((line) => line.trim() !== "" && !line.trim().startsWith("#")) ?? "";
  if (/^(\*\w+|:\S+\s|-[APNI]\s)/.test(firstLine.trim())) return parseIptables(input);
  if (/^(table|flush|add|define|include)\b/.test(firstLine.trim())) return parseNftText(input);
  return finishRuleset("unknown", [], [], splitLines(input).map((line, index) => ({ line: index + 1, text: line })));
}

function finishRuleset(format: FirewallFormat, chains: FirewallChain[], problems: InspectProblem[], unparsed: UnparsedLine[]): FirewallRuleset {
  const natRules: NatRule[] = [];
  const forwardFilters: ForwardFilter[] = [];
  for (const chain of chains) {
    for (const rule of chain.rules) {
      if (rule.verdict === "masquerade" || rule.verdict === "snat") {
        const nat: NatRule = { ...rule, kind: rule.verdict };
        if (chain.hook !== undefined) nat.hook = chain.hook;
        natRules.push(nat);
      }
    }
    const isFilterType = chain.type === undefined || chain.type === "filter";
    if (chain.hook === "forward" && isFilterType) {
      const dropRules = chain.rules.filter((rule) => rule.verdict === "drop");
      const rejectRules = chain.rules.filter((rule) => rule.verdict === "reject");
      const filter: ForwardFilter = {
        family: chain.family,
        table: chain.table,
        chain: chain.name,
        dropRules,
        rejectRules,
        filters: (chain.policy ?? "").toLowerCase() === "drop" || dropRules.length > 0 || rejectRules.length > 0,
      };
      if (chain.policy !== undefined) filter.policy = chain.policy.toLowerCase();
      forwardFilters.push(filter);
    }
  }
  return { format, chains, natRules, forwardFilters, problems, unparsed };
}

// ---- nftables JSON ---------------------------------------------------------------------

function jsonAddressValues(right: unknown): string[] {
  if (typeof right === "string") return [right];
  if (typeof right !== "object" || right === null) return [];
  const value = right as Record<string, unknown>;
  if (value.prefix && typeof value.prefix === "object") {
    const prefix = value.prefix as Record<string, unknown>;
    return [`${String(prefix.addr)}/${String(prefix.len)}`];
  }
  if (Array.isArray(value.range)) return [`${String(value.range[0])}-${String(value.range[1])}`];
  if (Array.isArray(value.set)) return value.set.flatMap((item) => jsonAddressValues(item));
  return [];
}

function jsonNames(right: unknown): string[] {
  if (typeof right === "string") return [right];
  if (typeof right === "object" && right !== null && Array.isArray((right as { set?: unknown }).set)) {
    return ((right as { set: unknown[] }).set).filter((item): item is string => typeof item === "string");
  }
  return [];
}

export function parseNftJson(text: string): FirewallRuleset {
  let document: unknown;
  try {
    document = JSON.parse(typeof text === "string" ? text : "");
  } catch {
    return finishRuleset(
      "nft-json",
      [],
      [{ code: "nft-json-invalid", severity: "error", message: "The output of `nft -j list ruleset` is not valid JSON (cut short, or an error message?)." }],
      [],
    );
  }
  const items = (document as { nftables?: unknown }).nftables;
  if (!Array.isArray(items)) {
    return finishRuleset("nft-json", [], [{ code: "nft-json-invalid", severity: "error", message: 'The JSON has no "nftables" array.' }], []);
  }
  const chains = new Map<string, FirewallChain>();
  const chainOf = (family: string, table: string, name: string): FirewallChain => {
    const key = `${family}\u0000${table}\u0000${name}`;
    let chain = chains.get(key);
    if (!chain) {
      chain = { family, table, name, rules: [] };
      chains.set(key, chain);
    }
    return chain;
  };
  for (const item of items) {
    if (typeof item !== "object" || item === null) continue;
    const record = item as Record<string, unknown>;
    if (record.chain && typeof record.chain === "object") {
      const raw = record.chain as Record<string, unknown>;
      const chain = chainOf(String(raw.family), String(raw.table), String(raw.name));
      if (typeof raw.hook === "string") chain.hook = raw.hook;
      if (typeof raw.type === "string") chain.type = raw.type;
      if (typeof raw.policy === "string") chain.policy = raw.policy;
    }
    if (record.rule && typeof record.rule === "object") {
      const raw = record.rule as Record<string, unknown>;
      const chain = chainOf(String(raw.family), String(raw.table), String(raw.chain));
      chain.rules.push(ruleFromJson(chain, Array.isArray(raw.expr) ? raw.expr : []));
    }
  }
  return finishRuleset("nft-json", [...chains.values()], [], []);
}

function ruleFromJson(chain: FirewallChain, expressions: unknown[]): FirewallRule {
  const rule: FirewallRule = { family: chain.family, table: chain.table, chain: chain.name, text: "" };
  const words: string[] = [];
  for (const expression of expressions) {
    if (typeof expression !== "object" || expression === null) continue;
    const [kind, body] = Object.entries(expression as Record<string, unknown>)[0] ?? [];
    if (kind === undefined) continue;
    if (kind === "match" && typeof body === "object" && body !== null) {
      const match = body as { op?: string; left?: Record<string, unknown>; right?: unknown };
      const negated = match.op === "!=";
      const left = match.left ?? {};
      const payload = left.payload as { protocol?: string; field?: string } | undefined;
      const meta = left.meta as { key?: string } | undefined;
      if (payload && (payload.field === "saddr" || payload.field === "daddr") && (payload.protocol === "ip" || payload.protocol === "ip6")) {
        const values = jsonAddressValues(match.right);
        rule[payload.field] = { values, negated };
        words.push(`${payload.protocol} ${payload.field} ${negated ? "!= " : ""}${values.join(", ")}`);
      } else if (meta && (meta.key === "oifname" || meta.key === "iifname" || meta.key === "oif" || meta.key === "iif")) {
        const names = jsonNames(match.right);
        rule[meta.key.startsWith("o") ? "oifname" : "iifname"] = { names, negated };
        words.push(`${meta.key} ${negated ? "!= " : ""}"${names.join('", "')}"`);
      } else words.push(JSON.stringify(match));
      continue;
    }
    switch (kind) {
      case "accept":
      case "drop":
      case "reject":
      case "masquerade":
      case "return":
      case "queue":
      case "redirect":
        rule.verdict = kind;
        words.push(kind);
        break;
      case "snat":
      case "dnat": {
        rule.verdict = kind;
        const address = (body as { addr?: unknown } | null)?.addr;
        if (typeof address === "string") rule.target = address;
        words.push(`${kind}${rule.target ? ` to ${rule.target}` : ""}`);
        break;
      }
      case "jump":
      case "goto": {
        rule.verdict = kind;
        const target = (body as { target?: unknown } | null)?.target;
        if (typeof target === "string") rule.target = target;
        words.push(`${kind} ${rule.target ?? ""}`.trim());
        break;
      }
      case "xt": {
        // iptables-nft rules whose target nft cannot translate show up as "xt" (no details).
        const name = String((body as { name?: unknown } | null)?.name ?? "");
        const verdict = name.toUpperCase() === "MASQUERADE" ? "masquerade" : name.toUpperCase() === "SNAT" ? "snat" : name.toUpperCase() === "DNAT" ? "dnat" : name.toUpperCase() === "REJECT" ? "reject" : undefined;
        if (verdict) rule.verdict = verdict;
        else if (!rule.verdict) rule.verdict = "other";
        words.push(`xt ${name}`);
        break;
      }
      case "counter":
        words.push("counter");
        break;
      case "log":
        rule.verdict ??= "log";
        words.push("log");
        break;
      default:
        words.push(kind);
    }
  }
  rule.text = words.join(" ");
  return rule;
}

// ---- nftables text ---------------------------------------------------------------------

function nftSetOrValue(rest: string): { values: string[]; length: number } {
  const trimmed = rest.trimStart();
  const offset = rest.length - trimmed.length;
  if (trimmed.startsWith("{")) {
    const close = trimmed.indexOf("}");
    const body = close >= 0 ? trimmed.slice(1, close) : trimmed.slice(1);
    return { values: body.split(",").map((value) => value.trim().replace(/^"|"$/g, "")).filter((value) => value !== ""), length: offset + (close >= 0 ? close + 1 : trimmed.length) };
  }
  const word = /^("[^"]*"|\S+)/.exec(trimmed);
  const value = word ? (word[1] as string) : "";
  return { values: value === "" ? [] : [value.replace(/^"|"$/g, "")], length: offset + value.length };
}

function nftRuleFromText(chain: FirewallChain, text: string, line: number): FirewallRule {
  const rule: FirewallRule = { family: chain.family, table: chain.table, chain: chain.name, text: text.trim(), line };
  const body = text.trim();
  const matchers: Array<[RegExp, "saddr" | "daddr" | "oifname" | "iifname"]> = [
    [/\bip6? saddr\s+(!=\s*)?/g, "saddr"],
    [/\bip6? daddr\s+(!=\s*)?/g, "daddr"],
    [/\boif(?:name)?\s+(!=\s*)?/g, "oifname"],
    [/\biif(?:name)?\s+(!=\s*)?/g, "iifname"],
  ];
  for (const [regex, field] of matchers) {
    const match = regex.exec(body);
    if (!match) continue;
    const { values } = nftSetOrValue(body.slice(match.index + match[0].length));
    const negated = match[1] !== undefined;
    if (field === "saddr" || field === "daddr") rule[field] = { values, negated };
    else rule[field] = { names: values, negated };
  }
  const verdict = /\b(masquerade|snat|dnat|redirect|accept|drop|reject|return|queue|jump|goto)\b(?:\s+(?:ip6?\s+)?(?:to\s+)?(\S+))?/.exec(
    body.replace(/\bct state [^ ]+/, "").replace(/"[^"]*"/g, '""'),
  );
  if (verdict) {
    rule.verdict = verdict[1] as RuleVerdict;
    if ((rule.verdict === "snat" || rule.verdict === "dnat" || rule.verdict === "jump" || rule.verdict === "goto") && verdict[2]) {
      rule.target = verdict[2].replace(/;$/, "");
    }
  } else if (/\blog\b/.test(body)) rule.verdict = "log";
  return rule;
}

export function parseNftText(text: string): FirewallRuleset {
  const chains: FirewallChain[] = [];
  const problems: InspectProblem[] = [];
  const unparsed: UnparsedLine[] = [];
  let table: { family: string; name: string } | undefined;
  let chain: FirewallChain | undefined;
  /** Depth of blocks that are neither table nor chain (sets, maps, flowtables). */
  let otherDepth = 0;
  splitLines(typeof text === "string" ? text : "").forEach((raw, index) => {
    const line = index + 1;
    const text = raw.replace(/#.*$/, "").trim();
    if (text === "") return;
    if (otherDepth > 0) {
      otherDepth += (text.match(/\{/g) ?? []).length - (text.match(/\}/g) ?? []).length;
      return;
    }
    let match: RegExpExecArray | null;
    if ((match = /^table\s+(?:(ip|ip6|inet|arp|bridge|netdev)\s+)?(\S+)\s*\{$/.exec(text))) {
      table = { family: match[1] ?? "ip", name: match[2] as string };
      return;
    }
    if (table && !chain && (match = /^chain\s+(\S+)\s*\{$/.exec(text))) {
      chain = { family: table.family, table: table.name, name: match[1] as string, rules: [], line };
      chains.push(chain);
      return;
    }
    if (table && !chain && /^(set|map|flowtable|ct|counter|quota|limit|secmark|synproxy)\b.*\{$/.test(text)) {
      otherDepth = 1;
      return;
    }
    if (text === "}") {
      if (chain) chain = undefined;
      else if (table) table = undefined;
      else unparsed.push({ line, text: raw });
      return;
    }
    if (chain && (match = /^type\s+(\S+)\s+hook\s+(\S+)(?:\s+device\s+\S+)?\s+priority\s+[^;]+;(?:\s*policy\s+(\S+?);?)?\s*$/.exec(text))) {
      chain.type = match[1] as string;
      chain.hook = match[2] as string;
      if (match[3] !== undefined) chain.policy = match[3];
      return;
    }
    if (chain && (match = /^policy\s+(\S+?);?$/.exec(text))) {
      chain.policy = match[1] as string;
      return;
    }
    if (chain) {
      chain.rules.push(nftRuleFromText(chain, text, line));
      return;
    }
    unparsed.push({ line, text: raw });
  });
  if (table || chain) {
    problems.push({ code: "nft-text-truncated", severity: "warning", message: "The ruleset ends inside a table or chain block (output cut short?)." });
  }
  return finishRuleset("nft-text", chains, problems, unparsed);
}

// ---- iptables-save / iptables -S ------------------------------------------------------

function shellWords(text: string): string[] {
  const words: string[] = [];
  const regex = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  let match: RegExpExecArray | null;
  while ((match = regex.exec(text)) !== null) words.push(match[1] ?? match[2] ?? (match[3] as string));
  return words;
}

function iptablesChainTable(chain: string, explicitTable: string | undefined, target: string | undefined): string {
  if (explicitTable) return explicitTable;
  if (target === "MASQUERADE" || target === "SNAT" || target === "DNAT" || chain === "PREROUTING" || chain === "POSTROUTING") return "nat";
  return "filter";
}

/**
 * Reads `iptables-save [-t nat]`, `iptables -t nat -S` and `iptables -S FORWARD` output.
 * `-S` prints no "*table" line: pass `table` when known; otherwise a listing with the
 * PREROUTING/POSTROUTING chains and no FORWARD chain is taken as the nat table.
 */
export function parseIptables(text: string, options: { table?: string } = {}): FirewallRuleset {
  const chains = new Map<string, FirewallChain>();
  const unparsed: UnparsedLine[] = [];
  const problems: InspectProblem[] = [];
  const input = typeof text === "string" ? text : "";
  const looksNat = !/^\*/m.test(input) && /^-[PA]\s+(PRE|POST)ROUTING\b/m.test(input) && !/^-[PA]\s+FORWARD\b/m.test(input);
  let table: string | undefined = options.table ?? (looksNat ? "nat" : undefined);
  const chainOf = (tableName: string, name: string): FirewallChain => {
    const key = `${tableName}\u0000${name}`;
    let chain = chains.get(key);
    if (!chain) {
      chain = { family: "ip", table: tableName, name, type: tableName, rules: [] };
      const hook = IPTABLES_HOOKS[name];
      if (hook) chain.hook = hook;
      chains.set(key, chain);
    }
    return chain;
  };
  splitLines(input).forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || trimmed.startsWith("#") || trimmed === "COMMIT") return;
    let match: RegExpExecArray | null;
    if ((match = /^\*(\S+)$/.exec(trimmed))) {
      table = match[1] as string;
      return;
    }
    if ((match = /^:(\S+)\s+(\S+)/.exec(trimmed))) {
      const chain = chainOf(table ?? iptablesChainTable(match[1] as string, undefined, undefined), match[1] as string);
      chain.line = line;
      if (match[2] !== "-") chain.policy = (match[2] as string).toLowerCase();
      return;
    }
    if ((match = /^-P\s+(\S+)\s+(\S+)$/.exec(trimmed))) {
      const chain = chainOf(table ?? iptablesChainTable(match[1] as string, undefined, undefined), match[1] as string);
      chain.policy = (match[2] as string).toLowerCase();
      chain.line ??= line;
      return;
    }
    if ((match = /^-N\s+(\S+)$/.exec(trimmed))) {
      chainOf(table ?? "filter", match[1] as string).line = line;
      return;
    }
    if (/^-[AI]\s/.test(trimmed)) {
      const words = shellWords(trimmed);
      const chainName = words[1] ?? "";
      const targetIndex = words.findIndex((word) => word === "-j" || word === "--jump" || word === "-g" || word === "--goto");
      const target = targetIndex >= 0 ? words[targetIndex + 1] : undefined;
      const chain = chainOf(table ?? iptablesChainTable(chainName, undefined, target), chainName);
      chain.rules.push(iptablesRule(chain, words.slice(2), trimmed, line));
      return;
    }
    unparsed.push({ line, text: raw });
  });
  return finishRuleset("iptables", [...chains.values()], problems, unparsed);
}

function iptablesRule(chain: FirewallChain, words: string[], text: string, line: number): FirewallRule {
  const rule: FirewallRule = { family: chain.family, table: chain.table, chain: chain.name, text, line };
  let negateNext = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word === "!") {
      negateNext = true;
      continue;
    }
    const takeValue = (): { value: string; negated: boolean } => {
      let negated = negateNext;
      let value = words[i + 1] ?? "";
      i++;
      // Old iptables wrote the negation after the option: "-o ! eth1".
      if (value === "!") {
        negated = true;
        value = words[i + 1] ?? "";
        i++;
      }
      return { value, negated };
    };
    switch (word) {
      case "-s":
      case "--source":
      case "--src": {
        const { value, negated } = takeValue();
        rule.saddr = { values: value.split(","), negated };
        break;
      }
      case "-d":
      case "--destination":
      case "--dst": {
        const { value, negated } = takeValue();
        rule.daddr = { values: value.split(","), negated };
        break;
      }
      case "-o":
      case "--out-interface": {
        const { value, negated } = takeValue();
        rule.oifname = { names: [value], negated };
        break;
      }
      case "-i":
      case "--in-interface": {
        const { value, negated } = takeValue();
        rule.iifname = { names: [value], negated };
        break;
      }
      case "-j":
      case "--jump":
      case "-g":
      case "--goto": {
        const target = words[i + 1] ?? "";
        i++;
        const upper = target.toUpperCase();
        if (upper === "ACCEPT") rule.verdict = "accept";
        else if (upper === "DROP") rule.verdict = "drop";
        else if (upper === "REJECT") rule.verdict = "reject";
        else if (upper === "MASQUERADE") rule.verdict = "masquerade";
        else if (upper === "SNAT") rule.verdict = "snat";
        else if (upper === "DNAT") rule.verdict = "dnat";
        else if (upper === "REDIRECT") rule.verdict = "redirect";
        else if (upper === "RETURN") rule.verdict = "return";
        else if (upper === "LOG") rule.verdict = "log";
        else if (upper === "NFQUEUE" || upper === "QUEUE") rule.verdict = "queue";
        else {
          rule.verdict = word === "-g" || word === "--goto" ? "goto" : "jump";
          rule.target = target;
        }
        break;
      }
      case "--to-source":
      case "--to-destination":
      case "--to":
        rule.target = words[i + 1];
        i++;
        break;
      default:
        break;
    }
    negateNext = false;
  }
  return rule;
}

// ---- does the NAT cover the server network? -------------------------------------------

export interface NatCoverage {
  covered: boolean;
  /** The first rule that covers the network. */
  by?: NatRule;
  /** Why not, when not covered. */
  reason?: string;
}

/** Shell-style interface names of iptables ("eth+") and nft ("eth*") match by prefix. */
function interfaceMatches(pattern: string, name: string): boolean {
  if (pattern.endsWith("+") || pattern.endsWith("*")) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/**
 * Whether a masquerade/SNAT rule translates packets from `sourceNetwork` (the server
 * network, e.g. "10.221.1.0/24"): a rule with no source match covers it, as does a source
 * prefix containing it; a negated source match covers it when it does not overlap.
 * With `outInterface`, the rule's output interface match must let that interface through.
 */
export function natCovers(
  rules: readonly NatRule[] | FirewallRuleset,
  sourceNetwork: string,
  options: { outInterface?: string } = {},
): NatCoverage {
  const list = Array.isArray(rules) ? (rules as readonly NatRule[]) : (rules as FirewallRuleset).natRules;
  const network = parseIpv4Prefix(sourceNetwork);
  if (!network) return { covered: false, reason: `"${sourceNetwork}" is not an IPv4 network such as 10.221.1.0/24.` };
  if (list.length === 0) return { covered: false, reason: "There is no masquerade or SNAT rule." };
  const reasons: string[] = [];
  for (const rule of list) {
    if (rule.family === "ip6" || rule.family === "bridge" || rule.family === "arp") {
      reasons.push(`${rule.text}: only for ${rule.family}`);
      continue;
    }
    if (rule.hook !== undefined && rule.hook !== "postrouting") {
      reasons.push(`${rule.text}: in the ${rule.hook} hook, not postrouting`);
      continue;
    }
    if (rule.saddr) {
      const prefixes = rule.saddr.values.map((value) => parseIpv4Prefix(value));
      const valid = prefixes.filter((prefix): prefix is NonNullable<typeof prefix> => prefix !== undefined);
      const matches = rule.saddr.negated
        ? valid.length === prefixes.length && !valid.some((prefix) => prefixesOverlap(prefix, network))
        : valid.some((prefix) => prefixContains(prefix, network));
      if (!matches) {
        reasons.push(`${rule.text}: source ${rule.saddr.negated ? "!= " : ""}${rule.saddr.values.join(",")} does not include ${formatIpv4Prefix(network)}`);
        continue;
      }
    }
    if (options.outInterface !== undefined && rule.oifname) {
      const out = options.outInterface;
      const any = rule.oifname.names.some((name) => interfaceMatches(name, out));
      if (rule.oifname.negated ? any : !any) {
        reasons.push(`${rule.text}: output interface ${rule.oifname.negated ? "!= " : ""}${rule.oifname.names.join(",")} excludes ${out}`);
        continue;
      }
    }
    return { covered: true, by: rule };
  }
  return { covered: false, reason: reasons.join("; ") };
}

// =======================================================================================
// /etc/os-release

export interface OsRelease {
  id?: string;
  idLike: string[];
  family: "debian" | "rhel" | "other";
  prettyName?: string;
  versionId?: string;
  fields: Record<string, string>;
}

const DEBIAN_LIKE = new Set(["debian", "ubuntu", "raspbian", "linuxmint", "kali", "devuan", "pop", "elementary", "zorin"]);
const RHEL_LIKE = new Set(["rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn", "scientific", "eurolinux", "circle"]);

function unquoteOsRelease(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length >= 2 && (trimmed[0] === '"' || trimmed[0] === "'") && trimmed.endsWith(trimmed[0] as string)) {
    const inner = trimmed.slice(1, -1);
    return trimmed[0] === '"' ? inner.replace(/\\(["\\`$])/g, "$1") : inner;
  }
  return trimmed;
}

export function parseOsRelease(text: string): OsRelease {
  const fields: Record<string, string> = {};
  for (const line of splitLines(typeof text === "string" ? text : "")) {
    const match = /^\s*([A-Z0-9_]+)\s*=(.*)$/.exec(line);
    if (match) fields[match[1] as string] = unquoteOsRelease(match[2] as string);
  }
  const id = fields.ID?.toLowerCase();
  const idLike = (fields.ID_LIKE ?? "").toLowerCase().split(/\s+/).filter((word) => word !== "");
  const all = [id, ...idLike].filter((word): word is string => word !== undefined);
  const family = all.some((word) => DEBIAN_LIKE.has(word)) ? "debian" : all.some((word) => RHEL_LIKE.has(word)) ? "rhel" : "other";
  const result: OsRelease = { idLike, family, fields };
  if (id !== undefined) result.id = id;
  if (fields.PRETTY_NAME !== undefined) result.prettyName = fields.PRETTY_NAME;
  if (fields.VERSION_ID !== undefined) result.versionId = fields.VERSION_ID;
  return result;
}

// =======================================================================================
// Process lists: `ps -eo pid,comm,args`, `pgrep -a NAME`, `pgrep -l NAME`, `pidof NAME`

export interface ProcessEntry {
  pid: number;
  /** Executable name as the kernel knows it (ps comm, pgrep -l), when the format gives it. */
  comm?: string;
  /** Full command line, when the format gives it. */
  args?: string;
  line: number;
}

export interface ProcessList {
  format: "ps" | "pgrep" | "pidof" | "empty";
  processes: ProcessEntry[];
  unparsed: UnparsedLine[];
}

export function parseProcessList(text: string): ProcessList {
  const lines = splitLines(typeof text === "string" ? text : "");
  const nonEmpty = lines.filter((line) => line.trim() !== "");
  if (nonEmpty.length === 0) return { format: "empty", processes: [], unparsed: [] };
  if (nonEmpty.length === 1 && /^\s*\d+(\s+\d+)*\s*$/.test(nonEmpty[0] as string)) {
    const processes = (nonEmpty[0] as string).trim().split(/\s+/).map((pid) => ({ pid: Number(pid), line: lines.indexOf(nonEmpty[0] as string) + 1 }));
    return { format: "pidof", processes, unparsed: [] };
  }
  const headerIndex = lines.findIndex((line) => /^\s*PID\s+\S/.test(line));
  const processes: ProcessEntry[] = [];
  const unparsed: UnparsedLine[] = [];
  if (headerIndex >= 0) {
    const header = lines[headerIndex] as string;
    const columns = [...header.matchAll(/\S+/g)].map((match) => ({ name: match[0], start: match.index ?? 0 }));
    const commIndex = columns.findIndex((column) => column.name === "COMMAND" || column.name === "COMM" || column.name === "CMD");
    // With both comm and args the header reads "PID COMMAND COMMAND": args start where the second header starts.
    const argsColumn = columns.findIndex((column, index) => index > commIndex && /^(COMMAND|CMD|ARGS)$/.test(column.name));
    lines.forEach((raw, index) => {
      if (index <= headerIndex || raw.trim() === "") return;
      const pidMatch = /^\s*(\d+)\s+(.*)$/.exec(raw);
      if (!pidMatch) {
        unparsed.push({ line: index + 1, text: raw });
        return;
      }
      const entry: ProcessEntry = { pid: Number(pidMatch[1]), line: index + 1 };
      const rest = pidMatch[2] as string;
      if (commIndex >= 0 && argsColumn >= 0) {
        const argsStart = (columns[argsColumn] as { start: number }).start;
        const before = raw.slice(0, argsStart);
        const commText = before.replace(/^\s*\d+\s*/, "").trim();
        if (raw.length > argsStart && /\s/.test(raw[argsStart - 1] ?? " ") && commText !== "") {
          entry.comm = commText;
          entry.args = raw.slice(argsStart).trim();
        } else {
          const [comm, ...args] = rest.trim().split(/\s+/);
          if (comm !== undefined) entry.comm = comm;
          entry.args = args.join(" ");
        }
      } else if (commIndex >= 0) entry.comm = rest.trim();
      else entry.args = rest.trim();
      processes.push(entry);
    });
    return { format: "ps", processes, unparsed };
  }
  lines.forEach((raw, index) => {
    if (raw.trim() === "") return;
    const match = /^\s*(\d+)\s+(.+)$/.exec(raw);
    if (!match) {
      unparsed.push({ line: index + 1, text: raw });
      return;
    }
    const rest = (match[2] as string).trim();
    const entry: ProcessEntry = { pid: Number(match[1]), line: index + 1, args: rest };
    if (!/\s/.test(rest)) entry.comm = rest.replace(/^.*\//, "");
    processes.push(entry);
  });
  return { format: "pgrep", processes, unparsed };
}

/** Processes whose executable is `name` ("keepalived"), not a grep or shell that mentions it. */
export function findProcesses(list: ProcessList | readonly ProcessEntry[], name: string): ProcessEntry[] {
  const processes = Array.isArray(list) ? (list as readonly ProcessEntry[]) : (list as ProcessList).processes;
  return processes.filter((process) => {
    const argv0 = process.args?.trim().split(/\s+/)[0]?.replace(/^.*\//, "").replace(/:$/, "");
    // The kernel truncates comm to 15 characters.
    const commMatches = process.comm !== undefined && (process.comm === name || (process.comm.length === 15 && name.startsWith(process.comm)));
    if (process.args === undefined || process.args === "") return commMatches;
    return argv0 === name || (commMatches && argv0 !== undefined && !["grep", "pgrep", "ps", "sh", "bash", "sudo"].includes(argv0));
  });
}
