/**
 * The balancer's routing as SSH brings it back: IPv4 forwarding (sysctl or /proc) and the
 * routing table (`ip -j route`, or `ip route`).
 */

import { jsonExcerpt, parseUnsigned, splitLines, type InspectProblem, type UnparsedLine } from "./common.js";

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
          else unparsed.push({ line: index + 1, text: jsonExcerpt(item) });
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
