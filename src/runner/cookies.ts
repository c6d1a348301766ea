import { Cookie } from "tough-cookie";
import type { Text } from "./types.js";

export interface RouteCookie {
  raw: string;
  name: string;
  value: string;
  /** Apache's route: the text after the first "." of the value (mod_proxy_balancer's rule). */
  route: string | null;
  path: string | null;
}

/**
 * backend → route, as the balancer's own Set-Cookie headers paired them (the first route each
 * backend was seen to issue). A route swapped against the spec shows here as the lab has it.
 */
export function issuedRoutes(cookieName: string, records: readonly { backend: string | null; setCookie: readonly string[] }[]): Map<string, string> {
  const routes = new Map<string, string>();
  for (const r of records) {
    const cookie = r.backend ? findRouteCookie(r.setCookie, cookieName) : undefined;
    if (cookie?.route && r.backend && !routes.has(r.backend)) routes.set(r.backend, cookie.route);
  }
  return routes;
}

/** The sticky cookie among a response's Set-Cookie headers, if any. */
export function findRouteCookie(setCookie: readonly string[], cookieName: string): RouteCookie | undefined {
  for (const raw of setCookie) {
    const c = Cookie.parse(raw, { loose: false });
    if (!c || c.key !== cookieName) continue;
    const dot = c.value.indexOf(".");
    return {
      raw: raw.slice(0, 300),
      name: c.key,
      value: c.value.slice(0, 200),
      route: dot >= 0 ? c.value.slice(dot + 1).slice(0, 100) : null,
      path: c.path ?? null,
    };
  }
  return undefined;
}

/**
 * The fix when members share a route: each named member gets the route the spec gives it
 * (proxy.sticky and proxy.failover both meet two BalancerMembers with one route).
 */
export function ownRouteFix(members: readonly { name: string; route: string; address: string }[]): Text {
  return {
    es: `Dé a cada BalancerMember su propia ruta: ${members.map((b) => `route=${b.route} en el de ${b.name} (${b.address})`).join(", ")}.`,
    en: `Give each BalancerMember its own route: ${members.map((b) => `route=${b.route} on ${b.name}'s (${b.address})`).join(", ")}.`,
  };
}
