/**
 * The model of an Apache configuration as the lab grades it: directives as read (with their file
 * and line), and the reverse-proxy facts drawn from them (balancers, members, ProxyPass, Header
 * lines, route cookies).
 */

import type { FetchedFile, InspectProblem, SourceRef } from "./common.js";

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
