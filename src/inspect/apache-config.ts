/**
 * Reads an Apache configuration into the reverse-proxy facts the lab grades: balancers and their
 * members, ProxyPass/ProxyPassReverse, Header lines and the route cookie they set.
 */

import type {
  ApacheBalancer,
  ApacheBalancerMember,
  ApacheConfig,
  ApacheConfigOptions,
  ApacheDirective,
  ApacheHeaderDirective,
  ApacheProxyPass,
  ApacheRouteCookie,
  ApacheVirtualHostSection,
} from "./apache-model.js";
import { crossCheckApacheConfig } from "./apache-problems.js";
import { ifModuleHolds, readApacheDirectives } from "./apache-syntax.js";
import { isIpv4, isIpv6, type SourceRef } from "./common.js";

/** Balancer-wide parameters a ProxyPass line may carry for its balancer. */
const BALANCER_PARAMETERS = new Set([
  "lbmethod", "stickysession", "stickysessionsep", "scolonpathdelim", "nofailover", "maxattempts",
  "failonstatus", "failontimeout", "forcerecovery", "growth", "timeout",
]);
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
  const { directives, files, problems } = readApacheDirectives(text, options);
  const config: ApacheConfig = {
    directives,
    files,
    virtualHosts: [],
    balancers: [],
    proxyPasses: [],
    proxyPassReverses: [],
    headers: [],
    routeCookies: [],
    problems,
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
  crossCheckApacheConfig(config);
  return config;
}
