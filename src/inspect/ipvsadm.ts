/**
 * Readers of `ipvsadm -Ln` (with or without --stats, --rate, --thresholds,
 * --persistent-conn), `ipvsadm -Sn` and `ipvsadm -Lnc`: the kernel's own view of the
 * virtual service keepalived built, which decides the scheduler and weights exactly
 * where sampling through one client address cannot (persistence pins it to one server).
 *
 * Formats follow ipvsadm.c (print_title, print_service_entry, print_conn): a service line
 * "TCP  203.0.113.10:80 wrr persistent 1200" then real servers
 * "  -> 10.200.0.11:80   Masq    3      0          0". With --stats or --rate the
 * service line carries counters instead of the scheduler.
 */

import { parseUnsigned, splitLines, type InspectProblem, type UnparsedLine } from "./common.js";

export interface IpvsEndpoint {
  /** IP address (without brackets), or a host name when listed without -n. */
  address: string;
  port?: number;
  /** A service name ("http") printed instead of the port when listed without -n. */
  portName?: string;
  ipv6: boolean;
}

export interface IpvsStats {
  conns: number;
  inPackets: number;
  outPackets: number;
  inBytes: number;
  outBytes: number;
}

export interface IpvsRate {
  connsPerSecond: number;
  inPacketsPerSecond: number;
  outPacketsPerSecond: number;
  inBytesPerSecond: number;
  outBytesPerSecond: number;
}

export interface IpvsRealServer extends IpvsEndpoint {
  /** Masq (NAT), Route (DR), Tunnel, Local, or another name a patched kernel prints. */
  forward?: string;
  weight?: number;
  activeConns?: number;
  inactiveConns?: number;
  persistConns?: number;
  upperThreshold?: number;
  lowerThreshold?: number;
  stats?: IpvsStats;
  rate?: IpvsRate;
  line: number;
  text: string;
}

export interface IpvsService {
  protocol: "TCP" | "UDP" | "SCTP" | "FWM";
  /** Absent for firewall-mark services. */
  address?: string;
  port?: number;
  portName?: string;
  fwmark?: number;
  ipv6: boolean;
  /** rr, wrr, lc, wlc, sh ... (absent in --stats/--rate listings, which do not print it). */
  scheduler?: string;
  /** Persistence timeout in seconds, when the service is persistent. */
  persistent?: number;
  /** Persistence granularity ("255.255.255.0", or a prefix length for IPv6). */
  mask?: string;
  /** Words without a value: ops, synproxy, sip ... */
  flags: string[];
  /** Words with a value: pe, conn-timeout ... */
  options: Record<string, string>;
  stats?: IpvsStats;
  rate?: IpvsRate;
  realServers: IpvsRealServer[];
  line: number;
  text: string;
}

export type IpvsListFormat = "list" | "stats" | "rate" | "thresholds" | "persistent-conn" | "rules";

export interface IpvsTable {
  format: IpvsListFormat | "empty";
  /** "1.2.1" from "IP Virtual Server version 1.2.1 (size=4096)". */
  version?: string;
  size?: number;
  services: IpvsService[];
  /** From `ipvsadm -L --timeout`: "Timeout (tcp tcpfin udp): 900 120 300". */
  timeouts?: { tcp: number; tcpFin: number; udp: number };
  problems: InspectProblem[];
  unparsed: UnparsedLine[];
}

/** Service names ipvsadm prints without -n for the ports a lab may use. */
const SERVICE_PORTS: Record<string, number> = {
  http: 80, https: 443, "http-alt": 8080, webcache: 8080, ssh: 22, ftp: 21, smtp: 25, domain: 53, mysql: 3306,
};

/** Parses "10.0.0.1:80", "[2001:db8::1]:80", "host.example:http" or a bare address. */
export function parseIpvsEndpoint(text: string): IpvsEndpoint | undefined {
  const value = text.trim();
  if (value === "") return undefined;
  let address: string;
  let portText: string | undefined;
  let ipv6 = false;
  const bracketed = /^\[([^\]]+)\](?::(\S+))?$/.exec(value);
  if (bracketed) {
    address = bracketed[1] as string;
    portText = bracketed[2];
    ipv6 = true;
  } else {
    const colon = value.lastIndexOf(":");
    if (colon > 0 && value.indexOf(":") === colon) {
      address = value.slice(0, colon);
      portText = value.slice(colon + 1);
    } else {
      address = value;
      ipv6 = value.includes(":");
    }
  }
  const endpoint: IpvsEndpoint = { address, ipv6 };
  if (portText !== undefined && portText !== "") {
    const port = parseUnsigned(portText);
    if (port !== undefined) endpoint.port = port;
    else {
      endpoint.portName = portText;
      const known = SERVICE_PORTS[portText];
      if (known !== undefined) endpoint.port = known;
    }
  }
  return endpoint;
}

/** ipvsadm abbreviates counters past 100 million with K, M, G or T (--exact disables it). */
function parseCounter(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)([KMGT]?)$/.exec(text);
  if (!match) return undefined;
  const scale = { "": 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[match[2] as "" | "K" | "M" | "G" | "T"];
  return Number(match[1]) * scale;
}

function counters(tokens: readonly string[]): number[] | undefined {
  if (tokens.length < 5) return undefined;
  const values = tokens.slice(0, 5).map(parseCounter);
  return values.every((value) => value !== undefined) ? (values as number[]) : undefined;
}

function statsOf(values: number[]): IpvsStats {
  const [conns, inPackets, outPackets, inBytes, outBytes] = values as [number, number, number, number, number];
  return { conns, inPackets, outPackets, inBytes, outBytes };
}

function rateOf(values: number[]): IpvsRate {
  const [cps, inPps, outPps, inBps, outBps] = values as [number, number, number, number, number];
  return { connsPerSecond: cps, inPacketsPerSecond: inPps, outPacketsPerSecond: outPps, inBytesPerSecond: inBps, outBytesPerSecond: outBps };
}

function detectHeader(text: string): IpvsListFormat | undefined {
  if (!/^Prot\s+LocalAddress:Port/.test(text)) return undefined;
  if (/\bConns\s+InPkts\b/.test(text)) return "stats";
  if (/\bCPS\s+InPPS\b/.test(text)) return "rate";
  if (/\bUthreshold\b/.test(text)) return "thresholds";
  if (/\bPersistConn\b/.test(text)) return "persistent-conn";
  return "list";
}

const FORWARD_SWITCHES: Record<string, string> = { "-m": "Masq", "--masquerading": "Masq", "-g": "Route", "--gatewaying": "Route", "-i": "Tunnel", "--ipip": "Tunnel" };

export function parseIpvsadmList(text: string): IpvsTable {
  const table: IpvsTable = { format: "empty", services: [], problems: [], unparsed: [] };
  let format: IpvsListFormat | undefined;
  let service: IpvsService | undefined;
  const services = new Map<string, IpvsService>();
  splitLines(typeof text === "string" ? text : "").forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === "") return;
    let match: RegExpExecArray | null;
    if ((match = /^IP Virtual Server version (\S+) \(size=(\d+)\)/.exec(trimmed))) {
      table.version = match[1] as string;
      table.size = Number(match[2]);
      return;
    }
    if ((match = /^Timeout \(tcp tcpfin udp\):\s*(\d+)\s+(\d+)\s+(\d+)$/.exec(trimmed))) {
      table.timeouts = { tcp: Number(match[1]), tcpFin: Number(match[2]), udp: Number(match[3]) };
      return;
    }
    const header = detectHeader(trimmed);
    if (header) {
      format = header;
      table.format = header;
      return;
    }
    if (/^->\s+RemoteAddress:Port\b/.test(trimmed)) return;

    // ipvsadm -Sn / ipvsadm-save: "-A -t 10.0.0.1:80 -s rr -p 300", "-a -t ... -r ... -m -w 1"
    if (/^-[Aa]\s/.test(trimmed)) {
      format = "rules";
      table.format = "rules";
      const words = trimmed.split(/\s+/);
      const kindIndex = words.findIndex((word) => /^(-t|-u|-f|--tcp-service|--udp-service|--fwmark-service|--sctp-service)$/.test(word));
      const key = kindIndex >= 0 ? `${words[kindIndex]} ${words[kindIndex + 1] ?? ""}` : "";
      if (words[0] === "-A") {
        const created = ruleService(words, kindIndex, line, raw);
        if (!created) {
          table.unparsed.push({ line, text: raw });
          return;
        }
        services.set(key, created);
        table.services.push(created);
        return;
      }
      const owner = services.get(key);
      const serverIndex = words.findIndex((word) => word === "-r" || word === "--real-server");
      const endpoint = serverIndex >= 0 ? parseIpvsEndpoint(words[serverIndex + 1] ?? "") : undefined;
      if (!owner || !endpoint) {
        table.unparsed.push({ line, text: raw });
        return;
      }
      const server: IpvsRealServer = { ...endpoint, line, text: raw };
      for (let i = 0; i < words.length; i++) {
        const word = words[i] as string;
        const forward = FORWARD_SWITCHES[word];
        if (forward) server.forward = forward;
        if ((word === "-w" || word === "--weight") && parseUnsigned(words[i + 1]) !== undefined) server.weight = parseUnsigned(words[i + 1]);
        if ((word === "-x" || word === "--u-threshold") && parseUnsigned(words[i + 1]) !== undefined) server.upperThreshold = parseUnsigned(words[i + 1]);
        if ((word === "-y" || word === "--l-threshold") && parseUnsigned(words[i + 1]) !== undefined) server.lowerThreshold = parseUnsigned(words[i + 1]);
      }
      // ipvsadm's default forwarding method is direct routing (-g).
      server.forward ??= "Route";
      owner.realServers.push(server);
      return;
    }

    if ((match = /^(TCP|UDP|SCTP)\s+(\S+)(.*)$/.exec(trimmed)) || (match = /^(FWM)\s+(\d+)(.*)$/.exec(trimmed))) {
      const protocol = match[1] as IpvsService["protocol"];
      let rest = (match[3] as string).trim().split(/\s+/).filter((word) => word !== "");
      const created: IpvsService = { protocol, ipv6: false, flags: [], options: {}, realServers: [], line, text: raw };
      if (protocol === "FWM") {
        created.fwmark = Number(match[2]);
        if (rest[0] === "IPv6") {
          created.ipv6 = true;
          rest = rest.slice(1);
        }
      } else {
        const endpoint = parseIpvsEndpoint(match[2] as string);
        if (!endpoint) {
          table.unparsed.push({ line, text: raw });
          return;
        }
        created.address = endpoint.address;
        created.ipv6 = endpoint.ipv6;
        if (endpoint.port !== undefined) created.port = endpoint.port;
        if (endpoint.portName !== undefined) created.portName = endpoint.portName;
      }
      const numbers = counters(rest);
      if ((format === "stats" || format === "rate") && numbers) {
        if (format === "stats") created.stats = statsOf(numbers);
        else created.rate = rateOf(numbers);
      } else if (rest.length > 0) {
        if (format === undefined) table.format = format = "list";
        created.scheduler = rest[0];
        serviceFlags(created, rest.slice(1), table, line, raw);
      } else if (format !== "stats" && format !== "rate") {
        table.problems.push({
          code: "service-without-scheduler",
          severity: "warning",
          message: `Line ${line}: the service line has no scheduler (output cut short?).`,
          line,
          text: raw,
        });
      }
      service = created;
      table.services.push(created);
      return;
    }

    if ((match = /^->\s+(\S+)\s*(.*)$/.exec(trimmed))) {
      const endpoint = parseIpvsEndpoint(match[1] as string);
      if (!service || !endpoint) {
        table.unparsed.push({ line, text: raw });
        return;
      }
      const tokens = (match[2] as string).split(/\s+/).filter((word) => word !== "");
      const server: IpvsRealServer = { ...endpoint, line, text: raw };
      const effective = format ?? (tokens.length >= 4 && !/^\d+$/.test(tokens[0] as string) ? "list" : undefined);
      const ok = fillRealServer(server, tokens, effective);
      if (!ok) {
        table.problems.push({
          code: "real-server-columns",
          severity: "warning",
          message: `Line ${line}: the real server line does not have the columns the header announces.`,
          line,
          text: raw,
        });
      }
      service.realServers.push(server);
      return;
    }
    table.unparsed.push({ line, text: raw });
  });
  if (table.services.length === 0 && table.unparsed.length > 0 && table.version === undefined) {
    table.problems.push({
      code: "not-ipvsadm-output",
      severity: "error",
      message: `This does not look like ipvsadm -Ln output (first line: "${table.unparsed[0]?.text ?? ""}"). Is ipvsadm installed and run as root?`,
    });
  }
  return table;
}

function serviceFlags(service: IpvsService, words: readonly string[], table: IpvsTable, line: number, raw: string): void {
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (word === "persistent") {
      const timeout = parseUnsigned(words[i + 1]);
      if (timeout === undefined) {
        table.problems.push({ code: "persistent-without-timeout", severity: "warning", message: `Line ${line}: "persistent" without a timeout.`, line, text: raw });
      } else {
        service.persistent = timeout;
        i++;
      }
    } else if (word === "mask" && words[i + 1] !== undefined) {
      service.mask = words[++i] as string;
    } else if ((word === "pe" || word === "conn-timeout") && words[i + 1] !== undefined) {
      service.options[word] = words[++i] as string;
    } else service.flags.push(word);
  }
}

function ruleService(words: readonly string[], kindIndex: number, line: number, raw: string): IpvsService | undefined {
  const kind = words[kindIndex];
  const target = words[kindIndex + 1];
  if (kind === undefined || target === undefined) return undefined;
  const service: IpvsService = { protocol: "TCP", ipv6: false, flags: [], options: {}, realServers: [], line, text: raw };
  if (kind === "-f" || kind === "--fwmark-service") {
    service.protocol = "FWM";
    const mark = parseUnsigned(target);
    if (mark === undefined) return undefined;
    service.fwmark = mark;
    service.ipv6 = words.includes("-6") || words.includes("--ipv6");
  } else {
    service.protocol = kind === "-u" || kind === "--udp-service" ? "UDP" : kind === "--sctp-service" ? "SCTP" : "TCP";
    const endpoint = parseIpvsEndpoint(target);
    if (!endpoint) return undefined;
    service.address = endpoint.address;
    service.ipv6 = endpoint.ipv6;
    if (endpoint.port !== undefined) service.port = endpoint.port;
  }
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if ((word === "-s" || word === "--scheduler") && words[i + 1] !== undefined) service.scheduler = words[i + 1];
    if (word === "-p" || word === "--persistent") {
      const timeout = parseUnsigned(words[i + 1]);
      // ipvsadm's default persistence timeout is 300 seconds when -p has no value.
      service.persistent = timeout ?? 300;
    }
    if ((word === "-M" || word === "--netmask") && words[i + 1] !== undefined) service.mask = words[i + 1];
    if (word === "ops" || word === "-o" || word === "--ops") service.flags.push("ops");
    if (word === "pe" && words[i + 1] !== undefined) service.options.pe = words[i + 1] as string;
  }
  return service;
}

function fillRealServer(server: IpvsRealServer, tokens: readonly string[], format: IpvsListFormat | undefined): boolean {
  const numbers = tokens.map((token) => parseUnsigned(token));
  switch (format) {
    case "list": {
      if (tokens.length < 4) return false;
      server.forward = tokens[0];
      if (numbers[1] !== undefined) server.weight = numbers[1];
      if (numbers[2] !== undefined) server.activeConns = numbers[2];
      if (numbers[3] !== undefined) server.inactiveConns = numbers[3];
      return numbers[1] !== undefined && numbers[2] !== undefined && numbers[3] !== undefined;
    }
    case "stats":
    case "rate": {
      const values = counters(tokens);
      if (!values) return false;
      if (format === "stats") server.stats = statsOf(values);
      else server.rate = rateOf(values);
      return true;
    }
    case "thresholds": {
      if (numbers.length < 4 || numbers.slice(0, 4).some((value) => value === undefined)) return false;
      [server.upperThreshold, server.lowerThreshold, server.activeConns, server.inactiveConns] = numbers as number[];
      return true;
    }
    case "persistent-conn": {
      if (numbers.length < 4 || numbers.slice(0, 4).some((value) => value === undefined)) return false;
      [server.weight, server.persistConns, server.activeConns, server.inactiveConns] = numbers as number[];
      return true;
    }
    default:
      return false;
  }
}

/** Weights of the real servers of a service, keyed "address:port". */
export function ipvsWeights(service: IpvsService): Record<string, number | undefined> {
  const weights: Record<string, number | undefined> = {};
  for (const server of service.realServers) {
    weights[`${server.ipv6 ? `[${server.address}]` : server.address}:${server.port ?? server.portName ?? ""}`] = server.weight;
  }
  return weights;
}

/** The service listening on a VIP (and port), if listed. */
export function findIpvsService(table: IpvsTable, address: string, port?: number, protocol: IpvsService["protocol"] = "TCP"): IpvsService | undefined {
  return table.services.find(
    (service) => service.protocol === protocol && service.address === address && (port === undefined || service.port === port),
  );
}

// =======================================================================================
// ipvsadm -Lnc

export interface IpvsConnection {
  protocol: string;
  /** As printed ("14:59"). */
  expire: string;
  expireSeconds: number;
  /** ESTABLISHED, TIME_WAIT, SYN_RECV, FIN_WAIT, CLOSE, NONE, ASSURED (persistence templates), ... */
  state: string;
  source: IpvsEndpoint;
  virtual: IpvsEndpoint;
  destination: IpvsEndpoint;
  /**
   * A persistence template: client port 0. It pins every new connection of that client
   * address to `destination` until it expires (NONE or ASSURED, depending on the kernel).
   */
  isTemplate: boolean;
  peName?: string;
  peData?: string;
  line: number;
  text: string;
}

export interface IpvsConnectionTable {
  connections: IpvsConnection[];
  problems: InspectProblem[];
  unparsed: UnparsedLine[];
}

/** "14:59" → 899; ipvsadm prints minutes past 59 as they are ("180:03"). */
function expireSeconds(text: string): number | undefined {
  const match = /^(\d+):(\d{1,2})$/.exec(text);
  if (match) return Number(match[1]) * 60 + Number(match[2]);
  return parseUnsigned(text);
}

export function parseIpvsadmConnections(text: string): IpvsConnectionTable {
  const result: IpvsConnectionTable = { connections: [], problems: [], unparsed: [] };
  splitLines(typeof text === "string" ? text : "").forEach((raw, index) => {
    const line = index + 1;
    const trimmed = raw.trim();
    if (trimmed === "" || /^IPVS connection entries$/i.test(trimmed) || /^pro\s+expire\s+state\b/.test(trimmed)) return;
    // `watch ipvsadm -Lnc` prints its own banner first.
    if (/^Every [\d.]+s:/.test(trimmed)) return;
    const tokens = trimmed.split(/\s+/);
    const [protocol, expire, state, sourceText, virtualText, destinationText, peName, peData] = tokens;
    const seconds = expire !== undefined ? expireSeconds(expire) : undefined;
    const source = sourceText !== undefined ? parseIpvsEndpoint(sourceText) : undefined;
    const virtual = virtualText !== undefined ? parseIpvsEndpoint(virtualText) : undefined;
    const destination = destinationText !== undefined ? parseIpvsEndpoint(destinationText) : undefined;
    if (!protocol || !/^[A-Z]{2,5}$/.test(protocol) || seconds === undefined || !state || !source || !virtual || !destination) {
      result.unparsed.push({ line, text: raw });
      return;
    }
    const connection: IpvsConnection = {
      protocol,
      expire: expire as string,
      expireSeconds: seconds,
      state,
      source,
      virtual,
      destination,
      isTemplate: source.port === 0,
      line,
      text: raw,
    };
    if (peName !== undefined) connection.peName = peName;
    if (peData !== undefined) connection.peData = peData;
    result.connections.push(connection);
  });
  return result;
}

/** Persistence templates (client port 0): which real server each client address is pinned to. */
export function persistenceTemplates(table: IpvsConnectionTable): IpvsConnection[] {
  return table.connections.filter((connection) => connection.isTemplate);
}
