import { defineCheck, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import { issuedRoutes, ownRouteFix } from "../../src/runner/cookies.js";
import { countLabels, sampleEvidence } from "../../src/runner/evidence.js";
import type { Evidence } from "../../src/model/index.js";

/**
 * Requests that carry the cookie, per client. Without stickiness byrequests would send each to
 * the largest-share member with probability ≤ 3/4 (3:1): 25 requests all on one server then
 * happen by chance with probability ≤ 0.75^25 ≈ 7.5e-4 < 0.001 (β). A sticky lab never
 * moves its client, so α = 0 apart from network errors.
 */
const STICKY_REQUESTS = 25;

export default defineCheck({
  id: "proxy.sticky",
  part: "proxy",
  title: text("Sesiones persistentes con la cookie", "Sticky sessions with the cookie"),
  points: 2,
  needs: ["http"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  async run(ctx) {
    const name = ctx.spec.expect.cookieName;
    const evidence: Evidence[] = [];

    // 1. Cookieless browsers are balanced. Sampled first: requests that carry a sticky cookie
    // still move byrequests' counters, and a burst of them can pin the next cookieless requests.
    const fresh = await ctx.http.sample({ mode: "keep-alive", maxRequests: 12, label: "cookieless" });
    const freshSeen = new Set(fresh.records.map((r) => r.backend).filter(Boolean));
    evidence.push(sampleEvidence("cookieless", "keep-alive", fresh.records));
    if (freshSeen.size < Math.min(2, ctx.spec.backends.length)) {
      return fail(
        text(`Los clientes sin cookie ya no se reparten (${fmt(countLabels(fresh.records))}).`, `Cookieless clients are no longer balanced (${fmt(countLabels(fresh.records))}).`),
        text("Mantenga lbmethod=byrequests y ambos BalancerMember activos.", "Keep lbmethod=byrequests and both BalancerMembers active."),
        evidence,
      );
    }
    // 2. A browser keeps its cookie: every request reaches the server of its first answer.
    const browser = ctx.http.client("browser");
    const s = await ctx.http.sample({ mode: "keep-alive", maxRequests: STICKY_REQUESTS, client: browser, label: "sticky" });
    const first = s.records.find((r) => r.backend);
    const cookie = await browser.getCookie(ctx.http.target, name);
    const counts = countLabels(s.records);
    evidence.push(sampleEvidence("with-cookie", "keep-alive", s.records, { cookie: cookie ?? null, trace: cookieTrace(s.records) }));
    if (!cookie) {
      return fail(
        text(`El servidor no pone la cookie ${name}: sin ella no hay persistencia (${fmt(counts)}).`, `The server sets no ${name} cookie: without it there is no stickiness (${fmt(counts)}).`),
        text(
          `Añada Header add Set-Cookie "${name}=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED y stickysession=${name} en ProxyPass.`,
          `Add Header add Set-Cookie "${name}=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED and stickysession=${name} to ProxyPass.`,
        ),
        evidence,
      );
    }
    // Two servers issued the same route: a cookie cannot tell them apart, and Apache sends it to
    // the first member with that route whatever server the browser met first.
    const issued = issuedRoutes(name, [...fresh.records, ...s.records]);
    const shared = sharedRoute(issued);
    if (shared) {
      // Where the cookie took the browser (its requests after the first answer), and which of the
      // servers sharing the route the spec gives another route.
      const withCookie = countLabels(s.records.slice(1).filter((r) => r.backend));
      const kept = Object.entries(withCookie).sort((a, b) => b[1] - a[1])[0]?.[0] ?? shared.backends[0]!;
      const group = ctx.spec.backends.filter((b) => shared.backends.includes(b.name));
      const wrong = group.filter((b) => b.route !== shared.route);
      const misnamed = wrong.length > 0 ? wrong : group.filter((b) => b.name !== kept);
      return fail(
        text(
          `${shared.backends.join(" y ")} reciben la misma ruta (${name}=.${shared.route}): la cookie no los distingue y Apache envía al navegador a ${kept} sea cual sea el primer servidor (${fmt(counts)}).`,
          `${shared.backends.join(" and ")} are issued the same route (${name}=.${shared.route}): the cookie cannot tell them apart, and Apache sends the browser to ${kept} whichever server it met first (${fmt(counts)}).`,
        ),
        ownRouteFix(misnamed),
        evidence,
      );
    }
    const valid = s.records.filter((r) => r.backend);
    const stuck = first && valid.every((r) => r.backend === first.backend);
    if (valid.length < STICKY_REQUESTS * 0.8) {
      return inconclusive(
        text(`Demasiados errores con la cookie (${fmt(counts)}).`, `Too many errors with the cookie (${fmt(counts)}).`),
        text("Compruebe que la VIP responde de forma estable y repita.", "Check the VIP answers steadily and run again."),
        evidence,
      );
    }
    if (!stuck) {
      return fail(
        text(
          `Con la cookie ${name}=${cookie} las peticiones siguen repartiéndose (${fmt(counts)}).`,
          `With the cookie ${name}=${cookie} requests are still spread (${fmt(counts)}).`,
        ),
        text(
          `Añada stickysession=${name} a la línea ProxyPass (en la misma línea) y route=… a cada BalancerMember.`,
          `Add stickysession=${name} to the ProxyPass line (on the same line) and route=… to each BalancerMember.`,
        ),
        evidence,
      );
    }

    // 3. A cookie for another server's route moves the client there (the route decides, not
    // chance). The route is the one the balancer itself issued for that server when it was seen
    // (a swapped route is proxy.routeid-cookie's fault, not a stickiness fault), else the spec's.
    const other = ctx.spec.backends.find((b) => b.name !== first!.backend);
    if (other) {
      const route = issued.get(other.name) ?? other.route;
      const moved = ctx.http.client("forged");
      await moved.forgeCookie(ctx.http.target, name, `.${route}`);
      const f = await ctx.http.sample({ mode: "keep-alive", maxRequests: 10, client: moved, label: "forged cookie" });
      const fv = f.records.filter((r) => r.backend);
      evidence.push(sampleEvidence(`forged .${route}`, "keep-alive", f.records, { forged: `${name}=.${route}` }));
      if (fv.length === 0 || !fv.every((r) => r.backend === other.name)) {
        return fail(
          text(
            `Con ${name}=.${route} se esperaba ${other.name} en todas las peticiones; se obtuvo ${fmt(countLabels(f.records))}.`,
            `With ${name}=.${route} every request should reach ${other.name}; got ${fmt(countLabels(f.records))}.`,
          ),
          text(
            `Revise route=${other.route} en el BalancerMember de ${other.name} (${other.address}) y stickysession=${name}.`,
            `Check route=${other.route} on ${other.name}'s BalancerMember (${other.address}) and stickysession=${name}.`,
          ),
          evidence,
        );
      }
    }

    return pass(
      text(
        `Con ${name}=${cookie} las ${valid.length} peticiones van a ${first!.backend}; una cookie de otra ruta cambia de servidor; sin cookie se reparte.`,
        `With ${name}=${cookie} all ${valid.length} requests reach ${first!.backend}; a cookie for another route moves the client; without a cookie requests are balanced.`,
      ),
      evidence,
    );
  },
});

/** The first route the balancer issued to more than one server, and those servers by name. */
function sharedRoute(issued: ReadonlyMap<string, string>): { route: string; backends: string[] } | undefined {
  const byRoute = new Map<string, string[]>();
  for (const [backend, route] of issued) byRoute.set(route, [...(byRoute.get(route) ?? []), backend]);
  for (const [route, backends] of byRoute) if (backends.length > 1) return { route, backends: [...backends].sort() };
  return undefined;
}

function fmt(counts: Record<string, number>): string {
  return Object.entries(counts).map(([k, v]) => `${k}: ${v}`).join(", ");
}

function cookieTrace(records: readonly { seq: number; label: string; setCookie: string[]; cookieSent?: string }[]) {
  return records.slice(0, 30).map((r) => ({ seq: r.seq, label: r.label, sent: r.cookieSent ?? null, set: r.setCookie }));
}
