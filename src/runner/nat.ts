/**
 * What net.nat needs to judge the balancer's NAT wherever hagrade runs: the balancer's addresses
 * and forwarding, its masquerade rules, and a target for the traffic test, an address of this
 * machine that a web server's connection reaches only by crossing the balancer, where its source
 * tells NAT (the balancer's address) from plain routing (the web server's own).
 *
 * There may be no such target: hagrade on the balancer itself (every address here is the
 * balancer's, delivered locally, never masqueraded), behind an address translator (a home
 * router, VirtualBox's NAT engine with port forwards: it rewrites the source of whatever reaches
 * this machine), or with every address of this machine on the server network (reached directly).
 * The check then judges by the rules and says why no traffic could tell.
 */
import { localIpv4Addresses } from "../config/targets.js";
import type { LabSpec } from "../config/schema.js";
import {
  formatIpv4Prefix,
  natCovers,
  parseFirewall,
  parseIpAddrOneline,
  parseIpForward,
  parseIpRoute,
  parseIpv4Prefix,
  prefixContains,
  type InterfaceAddress,
  type NatRule,
} from "../inspect/index.js";
import { shQuote } from "../ssh/index.js";
import type { Text } from "../model/index.js";

const isLoopback = (address: string): boolean => address.startsWith("127.");
const MAX_CANDIDATES = 8;

// ---- the balancer's own addresses ----------------------------------------------------------

/** Run as the login (not under sudo, which empties $SSH_CONNECTION): no root needed. */
export const BALANCER_FACTS_COMMAND =
  'echo "ssh:$SSH_CONNECTION"; echo "@@addr"; ip -4 -o addr show 2>/dev/null; echo "@@forward"; cat /proc/sys/net/ipv4/ip_forward 2>/dev/null';

export interface BalancerFacts {
  /** This machine's address as the balancer's sshd sees it; undefined without SSH (local). */
  seenAs?: string;
  /** The balancer's address the SSH connection reached. */
  reachedAt?: string;
  addresses: InterfaceAddress[];
  /** undefined when it could not be read. */
  ipForward?: boolean;
}

export function parseBalancerFacts(stdout: string): BalancerFacts {
  const [sshPart = "", rest = ""] = stdout.split("@@addr");
  const [addrPart = "", forwardPart = ""] = rest.split("@@forward");
  const words = (/ssh:(.*)/.exec(sshPart)?.[1] ?? "").trim().split(/\s+/);
  const facts: BalancerFacts = { addresses: parseIpAddrOneline(addrPart) };
  const [client, , server] = words;
  if (client && parseIpv4Prefix(client)) facts.seenAs = client;
  if (server && parseIpv4Prefix(server)) facts.reachedAt = server;
  const forward = parseIpForward(forwardPart).enabled;
  if (forward !== undefined) facts.ipForward = forward;
  return facts;
}

/** Every address that is the balancer: its interfaces' (loopback too), and the spec's names for it. */
export function balancerAddressSet(spec: LabSpec, facts: BalancerFacts): Set<string> {
  return new Set([...facts.addresses.map((a) => a.address), spec.balancer.internalAddress, ...(spec.balancer.serviceAddress ? [spec.balancer.serviceAddress] : [])]);
}

/**
 * The sources a masqueraded connection can arrive from: the balancer's addresses but loopback
 * (127.0.0.1 arriving here is this machine's own, as a port forwarder of this machine delivers).
 */
export function masqueradeSources(balancer: Set<string>): Set<string> {
  return new Set([...balancer].filter((a) => !isLoopback(a)));
}

/** The networks of the balancer's server side: those holding its internal address or a web server. */
function serverNetworks(spec: LabSpec, facts: BalancerFacts) {
  const inside = (a: InterfaceAddress, address: string) => {
    const p = parseIpv4Prefix(address);
    return p !== undefined && prefixContains(a.network, p);
  };
  return facts.addresses
    .filter((a) => !isLoopback(a.address))
    .filter((a) => a.address === spec.balancer.internalAddress || spec.backends.some((b) => inside(a, b.address)))
    .map((a) => a.network);
}

/**
 * The interface the server network leaves by toward the service side: the one holding the VIP,
 * else the balancer's service address, else the address SSH reached; undefined if none is known.
 */
export function serviceInterface(spec: LabSpec, facts: BalancerFacts): string | undefined {
  for (const address of [spec.vip.forwardsTo?.address, spec.vip.address, spec.balancer.serviceAddress, facts.reachedAt]) {
    const found = address === undefined || isLoopback(address) ? undefined : facts.addresses.find((a) => a.address === address);
    if (found) return found.ifname;
  }
  return undefined;
}

// ---- the rules ------------------------------------------------------------------------------

/** Needs root (sudo). Each reader's exit status says whether its output can be trusted. */
export const NAT_RULES_COMMAND =
  'nft -j list ruleset 2>/dev/null; echo "@@hagrade nft=$?"; iptables-save -t nat 2>/dev/null; echo "@@hagrade iptables=$?"';

export interface NatRulesReading {
  /** At least one of nft and iptables-save ran and printed what it has. */
  readable: boolean;
  rules: NatRule[];
  /** Backends no masquerade/SNAT rule covers (leaving by `outInterface` when it is known). */
  uncovered: string[];
  outInterface?: string;
}

/**
 * The output before `@@hagrade NAME=STATUS` (from `from`), and where that marker's line ends.
 * Found with indexOf: a lazy regex over a lab's output without the marker is quadratic, and held
 * the event loop for half a minute on 400 kB that a hostile lab printed.
 */
function beforeMarker(stdout: string, name: string, from: number): { text: string; status: string; end: number } | undefined {
  const marker = `@@hagrade ${name}=`;
  const at = stdout.indexOf(marker, from);
  if (at < 0) return undefined;
  const status = /^\d+/.exec(stdout.slice(at + marker.length, at + marker.length + 12))?.[0];
  if (status === undefined) return undefined;
  let end = at + marker.length + status.length;
  if (stdout[end] === "\n") end += 1;
  return { text: stdout.slice(from, at), status, end };
}

export function readNatRules(stdout: string, spec: LabSpec, outInterface: string | undefined): NatRulesReading {
  const nft = beforeMarker(stdout, "nft", 0);
  const ipt = nft ? beforeMarker(stdout, "iptables", nft.end) : undefined;
  const parts: string[] = [];
  if (nft?.status === "0") parts.push(nft.text);
  if (ipt?.status === "0") parts.push(ipt.text);
  const rules = parts.flatMap((part) => parseFirewall(part).natRules);
  const uncovered = spec.backends
    .filter((b) => !natCovers(rules, `${b.address}/32`, outInterface !== undefined ? { outInterface } : {}).covered)
    .map((b) => b.name);
  return { readable: parts.length > 0, rules, uncovered, ...(outInterface !== undefined ? { outInterface } : {}) };
}

// ---- where a web server's connection goes -----------------------------------------------------

/** How a machine routes to an address: through a gateway, on a link of its own, or to itself. */
export type RouteTo = { route: "via"; gateway: string } | { route: "direct" } | { route: "local" } | { route: "unknown"; output: string };

/** `ip route get` for each address, marked so the answers can be told apart (login user). */
export function routeProbeCommand(addresses: readonly string[]): string {
  return addresses.map((a) => `echo ${shQuote(`@@route ${a}`)}; ip -4 route get ${shQuote(a)} 2>&1`).join("; ");
}

export function parseRouteProbe(stdout: string, addresses: readonly string[]): Map<string, RouteTo> {
  const out = new Map<string, RouteTo>();
  const chunks = stdout.split(/^@@route /m).slice(1);
  for (const address of addresses) {
    const chunk = chunks.find((c) => c.startsWith(`${address}\n`) || c.trim() === address);
    const body = chunk?.slice(address.length).trim() ?? "";
    const route = parseIpRoute(body).routes.find((r) => r.dst === address);
    if (!route) out.set(address, { route: "unknown", output: body.slice(0, 200) });
    else if (route.type === "local") out.set(address, { route: "local" });
    else if (route.gateway !== undefined) out.set(address, { route: "via", gateway: route.gateway });
    else out.set(address, { route: "direct" });
  }
  return out;
}

// ---- where hagrade is, and the traffic test's target ----------------------------------------

/** Where hagrade sits when no traffic can tell NAT from routing, and why. */
export interface NoTrafficTest {
  place: "on-balancer" | "translated" | "server-network";
  reason: Text;
}

export interface PlaceInput {
  spec: LabSpec;
  facts: BalancerFacts;
  /** The balancer's commands run on this machine (balancer.local). */
  balancerIsThisMachine: boolean;
  /** This machine's IPv4 addresses (default: its interfaces'). */
  localAddresses?: readonly string[];
}

/**
 * The addresses of this machine worth trying as the target, best first: the one the balancer
 * sees (it reaches it already), then the others. Empty when no traffic test can work from here,
 * with the reason.
 */
export function natCandidates(input: PlaceInput): { candidates: string[]; firstTrusted: boolean } | { none: NoTrafficTest } {
  const { spec, facts } = input;
  const local = new Set(input.localAddresses ?? localIpv4Addresses());
  const balancer = balancerAddressSet(spec, facts);
  const seen = facts.seenAs;
  const explicit = spec.grader.natTarget.address;
  // An explicit target outside the balancer is tried from anywhere, the balancer too.
  if (explicit !== undefined && !balancer.has(explicit)) return { candidates: [explicit], firstTrusted: true };
  if (input.balancerIsThisMachine || (seen !== undefined && balancer.has(seen))) {
    return {
      none: {
        place: "on-balancer",
        reason: input.balancerIsThisMachine
          ? text(
              "hagrade se ejecuta en el propio balanceador: todas las direcciones de este equipo son del balanceador, y una conexión de un servidor web a cualquiera de ellas se entrega localmente, sin enmascarar",
              "hagrade runs on the balancer itself: every address of this machine is the balancer's, and a web server's connection to any of them is delivered locally, never masqueraded",
            )
          : text(
              `hagrade se ejecuta en el propio balanceador (entra por SSH a sí mismo: el balanceador ve este equipo como ${seen ?? ""}, una dirección suya), y una conexión de un servidor web a una dirección del balanceador se entrega localmente, sin enmascarar`,
              `hagrade runs on the balancer itself (it logs in to itself over SSH: the balancer sees this machine as ${seen ?? ""}, an address of its own), and a web server's connection to an address of the balancer is delivered locally, never masqueraded`,
            ),
      },
    };
  }
  if (seen !== undefined && !local.has(seen)) {
    return {
      none: {
        place: "translated",
        reason: text(
          `el balanceador ve este equipo como ${seen}, que no es ninguna de sus direcciones: entre ambos hay un traductor de direcciones (un router con NAT, o el motor NAT de VirtualBox con reenvío de puertos), que también reescribiría el origen de una conexión de un servidor web hacia aquí`,
          `the balancer sees this machine as ${seen}, which is none of its addresses: an address translator lies between them (a router doing NAT, or VirtualBox's NAT engine with port forwards), and it would rewrite the source of a web server's connection to here too`,
        ),
      },
    };
  }
  const servers = serverNetworks(spec, facts);
  const onServerNetwork = (a: string) => {
    const p = parseIpv4Prefix(a);
    return p !== undefined && servers.some((n) => prefixContains(n, p));
  };
  const ordered = [...(seen !== undefined ? [seen] : []), ...[...local].filter((a) => a !== seen)];
  const candidates = ordered.filter((a) => !isLoopback(a) && !balancer.has(a) && !onServerNetwork(a)).slice(0, MAX_CANDIDATES);
  if (candidates.length === 0) {
    return {
      none: {
        place: "server-network",
        reason: text(
          `todas las direcciones de este equipo están en la red de servidores (${servers.map(formatIpv4Prefix).join(", ")}) o son del balanceador: un servidor web llega a ellas directamente, sin pasar por el balanceador`,
          `every address of this machine is on the server network (${servers.map(formatIpv4Prefix).join(", ")}) or the balancer's: a web server reaches it directly, without crossing the balancer`,
        ),
      },
    };
  }
  return { candidates, firstTrusted: seen !== undefined && candidates[0] === seen };
}

/**
 * The first candidate every web server reaches through a gateway (not on a link of its own), and
 * that the balancer reaches on a link of its own; the first is trusted on that last point when
 * it is the address the balancer already reaches (or the spec's natTarget).
 */
export function chooseTarget(
  candidates: readonly string[],
  firstTrusted: boolean,
  balancerRoutes: Map<string, RouteTo>,
  backendRoutes: Map<string, Map<string, RouteTo>>,
): string | undefined {
  return candidates.find((candidate, index) => {
    const fromBalancer = balancerRoutes.get(candidate);
    if (!(firstTrusted && index === 0) && fromBalancer?.route !== "direct") return false;
    return [...backendRoutes.values()].every((routes) => {
      const route = routes.get(candidate);
      return route?.route !== "direct" && route?.route !== "local";
    });
  });
}

/** The web servers whose route to `target` does not go through the balancer, with the gateway they use. */
export function bypassingBalancer(target: string, balancer: Set<string>, backendRoutes: Map<string, Map<string, RouteTo>>): { backend: string; gateway: string }[] {
  const out: { backend: string; gateway: string }[] = [];
  for (const [backend, routes] of backendRoutes) {
    const route = routes.get(target);
    if (route?.route === "via" && !balancer.has(route.gateway)) out.push({ backend, gateway: route.gateway });
  }
  return out;
}

function text(es: string, en: string): Text {
  return { es, en };
}
