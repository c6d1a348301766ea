/**
 * What `hagrade init --discover` reads on the lab's machines, with read-only commands only:
 * addresses and routes (`ip -j`), the machine's family and tools, /etc/hosts and the neighbour
 * table, keepalived.conf and Apache's sites, which daemons run, IPv4 forwarding, and (as root)
 * the IPVS table. Every command is one of the constants below, so a test can prove from the
 * grader's own command log that discovery changes nothing.
 */
import { MACHINE_FACTS_COMMAND, parseMachineFacts, type MachineFacts } from "../inspect/os.js";
import {
  parseApacheConfig,
  parseIpRoute,
  parseIpvsadmList,
  parseKeepalivedConfig,
  keepalivedModel,
  type ApacheConfig,
  type IpvsTable,
  type KeepalivedModel,
  type RouteTable,
} from "../inspect/index.js";

const MARK = (name: string) => `@@hagrade-discover-${name}@@`;
const SECTIONS = ["addr", "route", "hosts", "neigh", "files", "procs", "forward", "machine"] as const;
type Section = (typeof SECTIONS)[number];

/** Largest file read back (keepalived.conf, an Apache site): a lab's are a few KiB. */
export const MAX_CONFIG_FILE_BYTES = 256 * 1024;

/** The configuration files discovery reads, where Debian and the RHEL family keep them. */
export const CONFIG_FILE_GLOBS = [
  "/etc/keepalived/keepalived.conf",
  "/etc/apache2/sites-enabled/*",
  "/etc/httpd/conf.d/*.conf",
] as const;

/** One POSIX sh script, read-only: prints each section after its mark. */
export const BALANCER_READ_COMMAND = [
  `echo ${MARK("addr")}; ip -j addr show 2>/dev/null`,
  `echo ${MARK("route")}; ip -j route show 2>/dev/null`,
  `echo ${MARK("hosts")}; head -c 65536 /etc/hosts 2>/dev/null`,
  `echo ${MARK("neigh")}; ip -j neigh show 2>/dev/null`,
  `echo ${MARK("files")}; for f in ${CONFIG_FILE_GLOBS.join(" ")}; do [ -f "$f" ] && printf '%s\\t%s\\n' "$f" "$(head -c ${MAX_CONFIG_FILE_BYTES} "$f" | base64 | tr -d '\\n')"; done`,
  `echo ${MARK("procs")}; ps -eo comm= 2>/dev/null | grep -xE 'keepalived|apache2|httpd' | sort -u`,
  `echo ${MARK("forward")}; cat /proc/sys/net/ipv4/ip_forward 2>/dev/null`,
  `echo ${MARK("machine")}; ${MACHINE_FACTS_COMMAND}`,
  "true",
].join("; ");

/** Needs root (sudo -n when the user is not root); its failure only leaves the table unknown. */
export const IPVS_READ_COMMAND = "ipvsadm -Ln";

/** On a web server (through the balancer): its default route and what kind of machine it is. */
export const WEBSERVER_READ_COMMAND = [
  `echo ${MARK("route")}; ip -j route show 2>/dev/null`,
  `echo ${MARK("machine")}; ${MACHINE_FACTS_COMMAND}`,
  "true",
].join("; ");

/** Every command discovery may run, for the read-only proof (page fetches are fetchPageCommand). */
export const DISCOVERY_COMMANDS = [BALANCER_READ_COMMAND, IPVS_READ_COMMAND, WEBSERVER_READ_COMMAND] as const;

export interface InterfaceAddress {
  interface: string;
  address: string;
  prefixLength: number;
}

export interface HostsEntry {
  address: string;
  names: string[];
}

export interface BalancerReading {
  addresses: InterfaceAddress[];
  routes: RouteTable;
  hosts: HostsEntry[];
  /** Neighbours the balancer has talked to (address → interface), reachable or stale. */
  neighbours: { address: string; interface: string }[];
  keepalived?: { file: string; model: KeepalivedModel };
  apache: { file: string; config: ApacheConfig }[];
  running: { keepalived: boolean; apache: boolean };
  ipForward?: boolean;
  machine: MachineFacts;
  ipvs?: IpvsTable;
}

export interface WebServerReading {
  routes: RouteTable;
  machine: MachineFacts;
}

function sections(stdout: string): Record<Section, string> {
  const out = Object.fromEntries(SECTIONS.map((s) => [s, ""])) as Record<Section, string>;
  const text = typeof stdout === "string" ? stdout : "";
  const marks = SECTIONS.map((s) => ({ s, at: text.indexOf(MARK(s)) })).filter((m) => m.at >= 0).sort((a, b) => a.at - b.at);
  marks.forEach((m, i) => {
    const end = i + 1 < marks.length ? marks[i + 1]!.at : text.length;
    out[m.s] = text.slice(m.at + MARK(m.s).length, end).replace(/^\r?\n/, "");
  });
  return out;
}

function parseJsonArray(text: string): unknown[] {
  try {
    const value: unknown = JSON.parse(text.trim() || "[]");
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function parseAddresses(text: string): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const link of parseJsonArray(text).slice(0, 256)) {
    if (typeof link !== "object" || link === null) continue;
    const { ifname, addr_info: info } = link as { ifname?: unknown; addr_info?: unknown };
    if (typeof ifname !== "string" || !NAME.test(ifname) || !Array.isArray(info)) continue;
    for (const a of info.slice(0, 64)) {
      const { family, local, prefixlen } = (a ?? {}) as { family?: unknown; local?: unknown; prefixlen?: unknown };
      if (family !== "inet" || typeof local !== "string" || !IPV4.test(local)) continue;
      if (typeof prefixlen !== "number" || !Number.isInteger(prefixlen) || prefixlen < 0 || prefixlen > 32) continue;
      out.push({ interface: ifname, address: local, prefixLength: prefixlen });
    }
  }
  return out;
}

export function parseHosts(text: string): HostsEntry[] {
  const out: HostsEntry[] = [];
  for (const line of text.split(/\r?\n/).slice(0, 2000)) {
    const words = line.replace(/#.*/, "").trim().split(/\s+/).filter(Boolean);
    const [address, ...names] = words;
    if (address === undefined || !IPV4.test(address)) continue;
    const valid = names.filter((n) => NAME.test(n));
    if (valid.length > 0) out.push({ address, names: valid });
  }
  return out;
}

function parseNeighbours(text: string): { address: string; interface: string }[] {
  const out: { address: string; interface: string }[] = [];
  for (const n of parseJsonArray(text).slice(0, 1024)) {
    const { dst, dev, state } = (n ?? {}) as { dst?: unknown; dev?: unknown; state?: unknown };
    if (typeof dst !== "string" || !IPV4.test(dst) || typeof dev !== "string" || !NAME.test(dev)) continue;
    if (Array.isArray(state) && state.includes("FAILED")) continue;
    out.push({ address: dst, interface: dev });
  }
  return out;
}

function parseFiles(text: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const line of text.split("\n").slice(0, 256)) {
    const tab = line.indexOf("\t");
    if (tab <= 0) continue;
    const path = line.slice(0, tab);
    if (!/^\/etc\/[A-Za-z0-9._/-]{1,200}$/.test(path)) continue;
    const body = Buffer.from(line.slice(tab + 1).trim(), "base64");
    if (body.length > MAX_CONFIG_FILE_BYTES) continue;
    out.push({ path, text: body.toString("utf8") });
  }
  return out;
}

/** The balancer's reading from BALANCER_READ_COMMAND's output (and IPVS_READ_COMMAND's, when it ran). */
export function parseBalancerReading(stdout: string, ipvsStdout?: string): BalancerReading {
  const s = sections(stdout);
  const files = parseFiles(s.files);
  const keepalivedFile = files.find((f) => f.path === "/etc/keepalived/keepalived.conf");
  const procs = new Set(s.procs.split(/\s+/).filter(Boolean));
  const forward = s.forward.trim();
  const reading: BalancerReading = {
    addresses: parseAddresses(s.addr),
    routes: parseIpRoute(s.route),
    hosts: parseHosts(s.hosts),
    neighbours: parseNeighbours(s.neigh),
    apache: files
      .filter((f) => f !== keepalivedFile)
      .map((f) => ({ file: f.path, config: parseApacheConfig(f.text, { file: f.path }) }))
      .filter((a) => a.config.balancers.length > 0 || a.config.virtualHosts.length > 0),
    running: { keepalived: procs.has("keepalived"), apache: procs.has("apache2") || procs.has("httpd") },
    machine: parseMachineFacts(s.machine),
  };
  if (keepalivedFile) reading.keepalived = { file: keepalivedFile.path, model: keepalivedModel(parseKeepalivedConfig(keepalivedFile.text, { file: keepalivedFile.path })) };
  if (forward === "0" || forward === "1") reading.ipForward = forward === "1";
  if (ipvsStdout !== undefined && ipvsStdout.trim() !== "") reading.ipvs = parseIpvsadmList(ipvsStdout);
  return reading;
}

export function parseWebServerReading(stdout: string): WebServerReading {
  const s = sections(stdout);
  return { routes: parseIpRoute(s.route), machine: parseMachineFacts(s.machine) };
}
