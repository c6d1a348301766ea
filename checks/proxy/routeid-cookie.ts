import { defineCheck, ev, fail, pass, text, inconclusive } from "../../src/runner/check.js";
import { findRouteCookie } from "../../src/runner/cookies.js";
import type { CookieTraceRow } from "../../src/model/index.js";

/** Requests from new browsers: enough that byrequests sends some to every member (3:1 → 4). */
const FRESH_CLIENTS = 8;

/**
 * Each first response sets `ROUTEID=.<route>; path=/` (the Header line of the lab), and the
 * route names the member that served it, as the spec expects (wsrv1 ↔ webserver1).
 */
export default defineCheck({
  id: "proxy.routeid-cookie",
  part: "proxy",
  title: text("Cookie ROUTEID con la ruta del servidor", "ROUTEID cookie naming the server's route"),
  points: 1,
  needs: ["http"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  async run(ctx) {
    const name = ctx.spec.expect.cookieName;
    const expectedRoute = new Map(ctx.spec.backends.map((b) => [b.name, b.route]));
    const rows: CookieTraceRow[] = [];
    const problems: { es: string; en: string }[] = [];
    const seen = new Map<string, string>();
    for (let i = 0; i < FRESH_CLIENTS; i++) {
      const r = await ctx.http.get({ retries: 0 });
      if (!r.ok) {
        rows.push({ client: i + 1, error: { class: r.error.class, message: r.error.message } });
        continue;
      }
      const cookie = findRouteCookie(r.setCookie, name);
      const backend = r.backend ?? null;
      rows.push({ client: i + 1, status: r.status, backend, label: r.label ?? null, setCookie: r.setCookie, cookie: cookie ?? null });
      if (!cookie) continue;
      if (!backend) continue;
      seen.set(backend, cookie.route ?? "");
      const want = expectedRoute.get(backend);
      if (cookie.route !== want) {
        problems.push({
          es: `${backend} respondió con ${name}=${cookie.value} (ruta "${cookie.route ?? ""}"), se esperaba ".${want}"`,
          en: `${backend} answered with ${name}=${cookie.value} (route "${cookie.route ?? ""}"), expected ".${want}"`,
        });
      }
      if (cookie.path !== "/") {
        problems.push({ es: `la cookie no lleva path=/ (${cookie.raw})`, en: `the cookie lacks path=/ (${cookie.raw})` });
      }
    }
    const withCookie = rows.filter((r) => "cookie" in r && r.cookie).length;
    if (withCookie === 0) {
      return fail(
        text(`Ninguna de ${FRESH_CLIENTS} respuestas pone la cookie ${name}.`, `None of ${FRESH_CLIENTS} responses sets the ${name} cookie.`),
        text(
          `Añada en el VirtualHost: Header add Set-Cookie "${name}=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED (módulo headers activo).`,
          `Add to the VirtualHost: Header add Set-Cookie "${name}=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED (with mod_headers enabled).`,
        ),
        [ev.cookieTrace({ rows })],
      );
    }
    if (seen.size === 0) {
      // A cookie came, but no page was recognised as a web server: the route cannot be tied to one.
      return inconclusive(
        text(`Llega la cookie ${name}, pero ninguna página se reconoció como de un servidor web: no se puede comprobar la ruta.`, `The ${name} cookie comes, but no page was recognised as a web server's: its route cannot be checked.`),
        text(
          `Cada servidor debe servir su propia página ("Bienvenido a webserverX"), o ajuste identity.pattern en la especificación.`,
          `Each server must serve its own page ("Bienvenido a webserverX"), or adjust identity.pattern in the spec.`,
        ),
        [ev.cookieTrace({ rows })],
      );
    }
    const unique = [...new Map(problems.map((p) => [p.en, p])).values()];
    if (unique.length > 0) {
      const members = ctx.spec.backends.map((b) => `BalancerMember http://${b.address} route=${b.route}`).join("; ");
      return fail(
        text(`Cookie incorrecta: ${unique.map((p) => p.es).join("; ")}.`, `Wrong cookie: ${unique.map((p) => p.en).join("; ")}.`),
        text(`Cada BalancerMember debe llevar su ruta: ${members}.`, `Each BalancerMember needs its own route: ${members}.`),
        [ev.cookieTrace({ rows })],
      );
    }
    const mapping = [...seen.entries()].map(([b, r]) => `${b} → .${r}`).join(", ");
    const missing = ctx.spec.backends.filter((b) => !seen.has(b.name)).map((b) => b.name);
    return pass(
      text(
        `${name} correcta (${mapping})${missing.length ? `; no se vio ${missing.join(", ")}` : ""}.`,
        `${name} is right (${mapping})${missing.length ? `; ${missing.join(", ")} not seen` : ""}.`,
      ),
      [ev.cookieTrace({ rows })],
    );
  },
});
