/**
 * From what discovery read on the balancer (and the web servers' pages fetched through it) to
 * the lab: which part runs, the VIP, the balancer's addresses, the web servers, and what the lab
 * text expects of them. Expectations never come from the student's configuration: they are the
 * lab text's (3:1, persistence_timeout 1200, ROUTEID, wsrv1/wsrv2, each step's scheduler), or a
 * teacher's template's. Where the configuration says otherwise is a difference, listed as a
 * preview of what the grade will find; a wrong configuration cannot grade itself as right.
 */
import type { Text } from "../model/index.js";
import type { Step } from "../config/schema.js";
import { genhashDigest, type ApacheBalancer, type KeepalivedVirtualServer } from "../inspect/index.js";
import type { BalancerReading, InterfaceAddress, WebServerReading } from "./read.js";

export type Part = "lvs" | "proxy";

/** What the lab text asks at each step (and what a template may override). */
export interface Expectations {
  part: Part;
  step: Step;
  /** Part 1: the scheduler and persistence the step asks for. */
  lbAlgo?: "rr" | "wrr";
  persistenceTimeout: number;
  /** Part 1 wrr: weight by identity ("1" → 3); Part 2: loadfactor by identity. */
  weights?: (identity: string) => number;
  loadfactors?: (identity: string) => number;
  routes: (identity: string) => string;
  cookieName: string;
  /** Part 1, HTTP_GET step and after. */
  healthCheck?: "HTTP_GET";
  identityPattern: string;
  identityFlags: string;
}

const FIRST_GETS_THREE = (identity: string): number => (identity === "1" ? 3 : 1);

/** The lab text's expectations for a part and step (the final step unless told). */
export function labTextExpectations(part: Part, step: Step | undefined): Expectations {
  const common = { routes: (identity: string) => `wsrv${identity}`, cookieName: "ROUTEID", identityPattern: "Bienvenido a webserver(\\d+)", identityFlags: "i" };
  if (part === "proxy") {
    const s = step ?? "final";
    // Step 1 writes loadfactor=1 on both members; step 3 changes them (3:1 in this course).
    return { part, step: s, persistenceTimeout: 1200, ...common, loadfactors: s === "byrequests" ? () => 1 : FIRST_GETS_THREE };
  }
  const s = step ?? "final";
  switch (s) {
    case "rr":
      return { part, step: s, lbAlgo: "rr", persistenceTimeout: 0, ...common };
    case "wrr":
      return { part, step: s, lbAlgo: "wrr", persistenceTimeout: 0, weights: FIRST_GETS_THREE, ...common };
    case "persistence":
      return { part, step: s, lbAlgo: "rr", persistenceTimeout: 1200, ...common };
    case "http-get":
      return { part, step: s, lbAlgo: "rr", persistenceTimeout: 0, healthCheck: "HTTP_GET", ...common };
    default:
      return { part, step: s, lbAlgo: "wrr", persistenceTimeout: 1200, weights: FIRST_GETS_THREE, healthCheck: "HTTP_GET", ...common };
  }
}

/** One web server as discovery found it. */
export interface DiscoveredBackend {
  name: string;
  identity: string;
  address: string;
  port: number;
  /** Where its address came from: the balancer's configuration, /etc/hosts, or the neighbour table. */
  origin: "config" | "hosts" | "neighbours";
  /** Its page fetched from the balancer: the identity it shows, or why there was none. */
  page?: { identity?: string; label: string; md5?: string };
  /** What the student's configuration sets for it. */
  configured?: { weight?: number; loadfactor?: number; route?: string; checks?: string[]; digest?: string; text: string; file: string; line: number };
  reading?: WebServerReading;
  sshError?: Text;
  hostKey?: string;
}

export interface Difference {
  /** Short tag a test or a teacher can read: "loadfactor", "route", "lb_algo", ... */
  topic: string;
  text: Text;
  /** The line to write (or the command to run) to follow the lab text. */
  fix: Text;
}

export interface DiscoveredLab {
  part: Part;
  partReason: Text;
  vip: { address: string; port: number };
  vipReason: Text;
  /** Part 1 reached through a port forward (--vip): the VIP as keepalived.conf names it. */
  vipForwardsTo?: { address: string; port: number };
  internalAddress: string;
  serviceAddress?: string;
  backends: DiscoveredBackend[];
  expectations: Expectations;
  differences: Difference[];
  notes: Text[];
}

const t = (es: string, en: string): Text => ({ es, en });

function toInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

export function sameSubnet(a: InterfaceAddress, address: string): boolean {
  const bits = a.prefixLength;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((toInt(a.address) & mask) >>> 0) === ((toInt(address) & mask) >>> 0);
}

/** The proxy balancer the lab's site uses: the one a ProxyPass names, with the most members. */
function mainBalancer(reading: BalancerReading): { balancer: ApacheBalancer; file: string; vhost?: string } | undefined {
  let best: { balancer: ApacheBalancer; file: string; vhost?: string } | undefined;
  for (const { file, config } of reading.apache) {
    for (const balancer of config.balancers) {
      if (balancer.members.length === 0) continue;
      const pass = config.proxyPasses.find((p) => p.balancerName === balancer.name);
      if (!best || balancer.members.length > best.balancer.members.length) best = { balancer, file, ...(pass?.virtualHost ? { vhost: pass.virtualHost } : {}) };
    }
  }
  return best;
}

function mainVirtualServer(reading: BalancerReading): KeepalivedVirtualServer | undefined {
  return reading.keepalived?.model.virtualServers.find((v) => v.kind === "address" && v.address !== undefined && v.realServers.length > 0);
}

/** Part 2 when Apache proxies to a balancer of members; Part 1 when keepalived balances a virtual_server. */
export function detectPart(reading: BalancerReading): { part: Part; reason: Text } | undefined {
  const proxy = mainBalancer(reading);
  const lvs = mainVirtualServer(reading);
  if (proxy && (reading.running.apache || !lvs)) {
    return {
      part: "proxy",
      reason: t(
        `Apache reparte entre ${proxy.balancer.members.length} BalancerMember (${proxy.file})${reading.running.apache ? "" : ", aunque Apache no está en marcha"}.`,
        `Apache balances over ${proxy.balancer.members.length} BalancerMembers (${proxy.file})${reading.running.apache ? "" : ", although Apache is not running"}.`,
      ),
    };
  }
  if (lvs) {
    return {
      part: "lvs",
      reason: t(
        `keepalived.conf tiene virtual_server ${lvs.address} ${lvs.port ?? 80} con ${lvs.realServers.length} real_server${reading.running.keepalived ? "" : " (keepalived no está en marcha)"}.`,
        `keepalived.conf has virtual_server ${lvs.address} ${lvs.port ?? 80} with ${lvs.realServers.length} real_server${reading.running.keepalived ? "" : " (keepalived is not running)"}.`,
      ),
    };
  }
  return undefined;
}

/** Names that say "a web server" in /etc/hosts: webserver1, ws2, web-1, servidor2 ... */
const WEB_NAME = /^(?:web[-_]?server|webserver|ws|web|www|srv|servidor|server)[-_]?(\d{1,3})$/i;

function hostsIdentity(reading: BalancerReading, address: string): string | undefined {
  for (const entry of reading.hosts) {
    if (entry.address !== address) continue;
    for (const name of entry.names) {
      const m = WEB_NAME.exec(name.split(".")[0] ?? "");
      if (m) return String(Number(m[1]));
    }
  }
  return undefined;
}

export interface Candidate {
  address: string;
  port: number;
  origin: DiscoveredBackend["origin"];
  configured?: DiscoveredBackend["configured"];
}

/**
 * The web servers the configuration names, one per machine, and when it names fewer than two
 * machines (a missing real_server, two members on one host), the others the balancer knows of:
 * /etc/hosts names like webserver2, then its neighbours on the server network.
 */
export function candidates(reading: BalancerReading, part: Part, internal: InterfaceAddress | undefined): { list: Candidate[]; sharedHost?: { address: string; texts: string[] } } {
  const list: Candidate[] = [];
  let sharedHost: { address: string; texts: string[] } | undefined;
  if (part === "proxy") {
    const found = mainBalancer(reading);
    for (const m of found?.balancer.members ?? []) {
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(m.host)) continue;
      const configured = { loadfactor: m.loadfactor, ...(m.route !== undefined ? { route: m.route } : {}), text: m.text.trim(), file: m.file, line: m.line };
      const same = list.find((c) => c.address === m.host);
      if (same) {
        sharedHost = { address: m.host, texts: [same.configured?.text ?? "", m.text.trim()] };
        continue;
      }
      list.push({ address: m.host, port: m.port ?? 80, origin: "config", configured });
    }
  } else {
    const vs = mainVirtualServer(reading);
    for (const r of vs?.realServers ?? []) {
      const digest = r.checks.flatMap((c) => c.urls).find((u) => u.digest)?.digest;
      const configured = { weight: r.weight, checks: r.checks.map((c) => c.type), ...(digest ? { digest } : {}), text: `real_server ${r.address} ${r.port ?? ""}`.trim(), file: r.file, line: r.line };
      const same = list.find((c) => c.address === r.address);
      if (same) {
        sharedHost = { address: r.address, texts: [same.configured?.text ?? "", configured.text] };
        continue;
      }
      list.push({ address: r.address, port: r.port ?? 80, origin: "config", configured });
    }
  }
  if (list.length < 2 && internal) {
    const own = new Set(reading.addresses.map((a) => a.address));
    const taken = (address: string) => own.has(address) || list.some((c) => c.address === address);
    const port = list[0]?.port ?? 80;
    for (const entry of reading.hosts) {
      if (list.length >= 2) break;
      if (taken(entry.address) || !sameSubnet(internal, entry.address)) continue;
      if (hostsIdentity(reading, entry.address) !== undefined) list.push({ address: entry.address, port, origin: "hosts" });
    }
    for (const n of reading.neighbours) {
      if (list.length >= 2) break;
      if (taken(n.address) || !sameSubnet(internal, n.address)) continue;
      list.push({ address: n.address, port, origin: "neighbours" });
    }
  }
  return { list, ...(sharedHost ? { sharedHost } : {}) };
}

/** Backend names and identities: from the pages when they tell the servers apart, else /etc/hosts, else the order. */
export function nameBackends(found: readonly (Candidate & { page?: DiscoveredBackend["page"] })[], reading: BalancerReading): DiscoveredBackend[] {
  const distinct = (ids: (string | undefined)[]): ids is string[] => ids.every((id) => id !== undefined && /^\d{1,3}$/.test(id)) && new Set(ids).size === ids.length;
  const fromPages = found.map((c) => c.page?.identity);
  const fromHosts = found.map((c) => hostsIdentity(reading, c.address));
  const ids = distinct(fromPages) ? fromPages : distinct(fromHosts) ? fromHosts : found.map((_, i) => String(i + 1));
  return found
    .map((c, i) => {
      const identity = String(Number(ids[i]));
      const backend: DiscoveredBackend = { name: `webserver${identity}`, identity, address: c.address, port: c.port, origin: c.origin };
      if (c.page) backend.page = c.page;
      if (c.configured) backend.configured = c.configured;
      return backend;
    })
    .sort((a, b) => Number(a.identity) - Number(b.identity));
}

/** The VIP: keepalived's virtual_server, or the address of Apache's VirtualHost, else VRRP's address, else the service address. */
export function findVip(reading: BalancerReading, part: Part, serviceAddress: string | undefined): { address: string; port: number; reason: Text } | undefined {
  if (part === "lvs") {
    const vs = mainVirtualServer(reading);
    if (vs?.address) return { address: vs.address, port: vs.port ?? 80, reason: t(`virtual_server de ${reading.keepalived?.file ?? "keepalived.conf"}`, `virtual_server of ${reading.keepalived?.file ?? "keepalived.conf"}`) };
  }
  const found = mainBalancer(reading);
  const vhost = found?.vhost ?? reading.apache.flatMap((a) => a.config.virtualHosts.map((v) => v.addresses[0] ?? "")).find(Boolean);
  const m = vhost ? /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(vhost.trim()) : null;
  const port = vhost ? Number(/:(\d+)$/.exec(vhost.trim())?.[1] ?? 80) : 80;
  if (m) return { address: m[1]!, port, reason: t(`<VirtualHost ${vhost}> de ${found?.file ?? "Apache"}`, `<VirtualHost ${vhost}> of ${found?.file ?? "Apache"}`) };
  const vrrp = reading.keepalived?.model.vrrpInstances.flatMap((v) => v.virtualIpAddresses).map((a) => a.split("/")[0] ?? "").find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
  if (vrrp) return { address: vrrp, port, reason: t("virtual_ipaddress de VRRP en keepalived.conf", "VRRP's virtual_ipaddress in keepalived.conf") };
  if (serviceAddress) return { address: serviceAddress, port, reason: t("la dirección de servicio del balanceador (el VirtualHost no la nombra)", "the balancer's service address (the VirtualHost does not name one)") };
  return undefined;
}

/** Where the student's configuration differs from the expectations, each with the line to change. */
export function differences(lab: Omit<DiscoveredLab, "differences">, reading: BalancerReading, sharedHost: { address: string; texts: string[] } | undefined): Difference[] {
  const out: Difference[] = [];
  const e = lab.expectations;
  const add = (topic: string, text: Text, fix: Text) => out.push({ topic, text, fix });
  if (sharedHost) {
    add("one-machine", t(
      `Dos miembros apuntan a la misma máquina ${sharedHost.address}: ${sharedHost.texts.join(" / ")}. La práctica pide dos servidores web.`,
      `Two members point at one machine ${sharedHost.address}: ${sharedHost.texts.join(" / ")}. The lab asks for two web servers.`,
    ), t("Apunte cada miembro a su propio servidor web.", "Point each member at its own web server."));
  }
  for (const b of lab.backends) {
    const where = `${b.name} (${b.address}:${b.port})`;
    if (b.origin !== "config") {
      add("missing-server", t(
        `La configuración del balanceador no nombra ${where} (encontrado en ${b.origin === "hosts" ? "/etc/hosts" : "la tabla de vecinos"}).`,
        `The balancer's configuration does not name ${where} (found in ${b.origin === "hosts" ? "/etc/hosts" : "the neighbour table"}).`,
      ), lab.part === "lvs"
        ? t(`Añada real_server ${b.address} ${b.port} { … } al virtual_server.`, `Add real_server ${b.address} ${b.port} { … } to the virtual_server.`)
        : t(`Añada BalancerMember http://${b.address} al <Proxy balancer://…>.`, `Add BalancerMember http://${b.address} to the <Proxy balancer://…>.`));
    }
    if (!b.page || b.page.identity === undefined) {
      add("page", t(`${where} no sirve su página desde el balanceador (${b.page?.label ?? "sin respuesta"}).`, `${where} does not serve its page to the balancer (${b.page?.label ?? "no answer"}).`),
        t(`Arranque su servidor web y ponga en /var/www/html/index.html "Bienvenido a ${b.name}".`, `Start its web server and write "Bienvenido a ${b.name}" in /var/www/html/index.html.`));
    } else if (b.page.identity !== b.identity) {
      add("page", t(`${where} sirve la página de webserver${b.page.identity} (${b.page.label}).`, `${where} serves webserver${b.page.identity}'s page (${b.page.label}).`),
        t(`Cada servidor su página: en ${b.name}, "Bienvenido a ${b.name}".`, `Each server its own page: on ${b.name}, "Bienvenido a ${b.name}".`));
    }
    const gateway = b.reading?.routes.routes.find((r) => r.dst === "default")?.gateway;
    if (b.reading && gateway !== lab.internalAddress) {
      add("gateway", t(`La ruta por defecto de ${b.name} va por ${gateway ?? "ninguna"}; se espera ${lab.internalAddress} (el balanceador).`, `${b.name}'s default route goes via ${gateway ?? "nothing"}; expected ${lab.internalAddress} (the balancer).`),
        t(`En ${b.name}: ip route replace default via ${lab.internalAddress}`, `On ${b.name}: ip route replace default via ${lab.internalAddress}`));
    }
    const c = b.configured;
    if (!c) continue;
    if (lab.part === "proxy") {
      const wantLf = e.loadfactors?.(b.identity) ?? 1;
      if (c.loadfactor !== wantLf) {
        add("loadfactor", t(`${c.text}: loadfactor=${c.loadfactor}; el enunciado pide loadfactor=${wantLf} para ${b.name}.`, `${c.text}: loadfactor=${c.loadfactor}; the lab text asks loadfactor=${wantLf} for ${b.name}.`),
          t(`BalancerMember http://${b.address}${b.port === 80 ? "" : `:${b.port}`} loadfactor=${wantLf} route=${e.routes(b.identity)}`, `BalancerMember http://${b.address}${b.port === 80 ? "" : `:${b.port}`} loadfactor=${wantLf} route=${e.routes(b.identity)}`));
      }
      if (e.step === "sticky" || e.step === "final") {
        const wantRoute = e.routes(b.identity);
        if (c.route !== wantRoute) {
          add("route", t(`${c.text}: ${c.route === undefined ? "sin route" : `route=${c.route}`}; el enunciado pide route=${wantRoute} para ${b.name}.`, `${c.text}: ${c.route === undefined ? "no route" : `route=${c.route}`}; the lab text asks route=${wantRoute} for ${b.name}.`),
            t(`Añada route=${wantRoute} a su BalancerMember.`, `Write route=${wantRoute} on its BalancerMember.`));
        }
      }
    } else {
      const wantWeight = e.weights?.(b.identity);
      if (wantWeight !== undefined && c.weight !== wantWeight) {
        add("weight", t(`${c.text}: weight ${c.weight}; el enunciado pide weight ${wantWeight} para ${b.name}.`, `${c.text}: weight ${c.weight}; the lab text asks weight ${wantWeight} for ${b.name}.`),
          t(`En su real_server: weight ${wantWeight}`, `In its real_server: weight ${wantWeight}`));
      }
      if (e.healthCheck === "HTTP_GET" && !(c.checks ?? []).includes("HTTP_GET")) {
        add("health-check", t(`${c.text} se comprueba con ${(c.checks ?? []).join(", ") || "nada"}; el paso pide HTTP_GET con digest.`, `${c.text} is checked with ${(c.checks ?? []).join(", ") || "nothing"}; the step asks for HTTP_GET with a digest.`),
          t(`Cambie TCP_CHECK por HTTP_GET { url { path / digest ${b.page?.md5 ?? "<genhash>"} } }`, `Replace TCP_CHECK by HTTP_GET { url { path / digest ${b.page?.md5 ?? "<genhash>"} } }`));
      } else if (c.digest && b.page?.md5 && c.digest.toLowerCase() !== b.page.md5) {
        add("digest", t(`${c.text}: digest ${c.digest}, pero la página de ${b.name} tiene MD5 ${b.page.md5}.`, `${c.text}: digest ${c.digest}, but ${b.name}'s page has MD5 ${b.page.md5}.`),
          t(`digest ${b.page.md5} (genhash -s ${b.address} -p ${b.port} -u /)`, `digest ${b.page.md5} (genhash -s ${b.address} -p ${b.port} -u /)`));
      }
      const held = lab.vipForwardsTo ?? lab.vip;
      const inTable = reading.ipvs?.services.find((s) => s.address === held.address && s.port === held.port);
      if (inTable && !inTable.realServers.some((r) => r.address === b.address)) {
        add("ipvs", t(`ipvsadm -Ln no tiene a ${where}: keepalived lo ha sacado (su comprobación falla) o no lo configura.`, `ipvsadm -Ln does not list ${where}: keepalived took it out (its check fails) or does not configure it.`),
          t("Mire el syslog de keepalived y la comprobación de ese real_server.", "Look at keepalived's syslog and that real_server's check."));
      }
    }
  }
  if (lab.part === "proxy") {
    const found = mainBalancer(reading);
    if (found) {
      const b = found.balancer;
      if ((b.lbmethod ?? "byrequests") !== "byrequests") add("lbmethod", t(`lbmethod=${b.lbmethod}; el enunciado usa lbmethod=byrequests.`, `lbmethod=${b.lbmethod}; the lab text uses lbmethod=byrequests.`), t("ProxyPass / balancer://micluster/ lbmethod=byrequests stickysession=ROUTEID", "ProxyPass / balancer://micluster/ lbmethod=byrequests stickysession=ROUTEID"));
      if (e.step === "sticky" || e.step === "final") {
        if (!b.stickySessionNames.includes(e.cookieName)) add("stickysession", t(`El balanceador ${b.url} no tiene stickysession=${e.cookieName}.`, `Balancer ${b.url} has no stickysession=${e.cookieName}.`), t(`ProxyPass / ${b.url}/ lbmethod=byrequests stickysession=${e.cookieName}`, `ProxyPass / ${b.url}/ lbmethod=byrequests stickysession=${e.cookieName}`));
        const cookie = reading.apache.flatMap((a) => a.config.routeCookies).find((c) => c.cookieName === e.cookieName && c.usesWorkerRoute);
        if (!cookie) add("cookie", t(`Ninguna línea Header envía la cookie ${e.cookieName} con la ruta.`, `No Header line sends the ${e.cookieName} cookie with the route.`), t(`Header add Set-Cookie "${e.cookieName}=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED`, `Header add Set-Cookie "${e.cookieName}=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED`));
      }
    }
    if (reading.running.keepalived) add("keepalived", t("keepalived sigue en marcha en el balanceador (la parte 2 empieza parándolo).", "keepalived is still running on the balancer (Part 2 starts by stopping it)."), t("service keepalived stop", "service keepalived stop"));
  } else {
    const vs = mainVirtualServer(reading);
    if (vs) {
      const algo = vs.lbAlgo ?? "(none)";
      if (e.lbAlgo && algo !== e.lbAlgo) add("lb_algo", t(`virtual_server ${vs.address} ${vs.port ?? ""}: lb_algo ${algo}; el paso ${e.step} pide lb_algo ${e.lbAlgo}.`, `virtual_server ${vs.address} ${vs.port ?? ""}: lb_algo ${algo}; step ${e.step} asks lb_algo ${e.lbAlgo}.`), t(`lb_algo ${e.lbAlgo}`, `lb_algo ${e.lbAlgo}`));
      const persistence = vs.persistenceTimeout ?? 0;
      if (persistence !== e.persistenceTimeout) {
        add("persistence_timeout", t(`persistence_timeout ${vs.persistenceTimeout ?? "(ausente)"}; el paso ${e.step} pide ${e.persistenceTimeout === 0 ? "sin persistencia" : `persistence_timeout ${e.persistenceTimeout}`}.`, `persistence_timeout ${vs.persistenceTimeout ?? "(absent)"}; step ${e.step} asks ${e.persistenceTimeout === 0 ? "no persistence" : `persistence_timeout ${e.persistenceTimeout}`}.`),
          e.persistenceTimeout === 0 ? t("Quite la línea persistence_timeout.", "Remove the persistence_timeout line.") : t(`persistence_timeout ${e.persistenceTimeout}`, `persistence_timeout ${e.persistenceTimeout}`));
      }
      if ((vs.lbKind ?? "NAT").toUpperCase() !== "NAT") add("lb_kind", t(`lb_kind ${vs.lbKind}; la práctica enmascara los servidores (NAT).`, `lb_kind ${vs.lbKind}; the lab masks the servers (NAT).`), t("lb_kind NAT", "lb_kind NAT"));
    }
    if (!reading.running.keepalived) add("keepalived", t("keepalived no está en marcha en el balanceador.", "keepalived is not running on the balancer."), t("service keepalived start", "service keepalived start"));
  }
  if (reading.ipForward === false) add("ip_forward", t("El balanceador no reenvía IPv4 (net.ipv4.ip_forward = 0).", "The balancer does not forward IPv4 (net.ipv4.ip_forward = 0)."), t("sysctl -w net.ipv4.ip_forward=1 (y en /etc/sysctl.conf)", "sysctl -w net.ipv4.ip_forward=1 (and in /etc/sysctl.conf)"));
  return out;
}

/** keepalived's digest of a page body as the balancer received it. */
export function pageDigest(body: string): string {
  return genhashDigest(Buffer.from(body, "utf8"));
}
