/**
 * Reads the model (keepalived-model.ts) out of a parsed keepalived.conf (keepalived-syntax.ts).
 * Versions differ in keyword names (nb_get_retry / retry, lb_algo / lvs_sched, lb_kind /
 * lvs_method): both are accepted. What keepalived would reject or ignore comes back as problems.
 */

import { isIpv4, isIpv6, parseDecimal, parseUnsigned, type InspectProblem } from "./common.js";
import type {
  KeepalivedCheck,
  KeepalivedCheckType,
  KeepalivedGlobalDefs,
  KeepalivedModel,
  KeepalivedRealServer,
  KeepalivedUrl,
  KeepalivedVirtualServer,
  KeepalivedVrrpInstance,
} from "./keepalived-model.js";
import type { KeepalivedAst, KeepalivedNode } from "./keepalived-syntax.js";

const CHECK_TYPES = new Set<string>([
  "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "SMTP_CHECK", "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "BFD_CHECK", "FILE_CHECK",
]);

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
