import type { Backend } from "../../src/config/schema.js";
import { defineCheck, ev, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import type { CheckContext } from "../../src/runner/context.js";
import { issuedRoutes, ownRouteFix } from "../../src/runner/cookies.js";
import { failoverUnavailable, measureFailover, PERSON_BOUND_MS, sharedFailoverVerdict, type FailoverMeasure, type Mark } from "../../src/runner/failover.js";
import { APACHE_DEFAULT_RETRY_MS, writeRejoinNote } from "../../src/runner/rejoin.js";
import type { Evidence } from "../../src/model/index.js";

/** Failed requests tolerated once the stop has returned, while Apache notices the stopped member. */
export const MAX_FAILED = 1;
/** The request loops that watch the VIP during the failover (a cookieless client and a stuck one). */
export const REQUEST_LOOPS = 2;

/**
 * The failed requests a failover holds against the lab. A request that failed while the stop
 * command was still running met the web server's own shutdown (its Apache dropping connections it
 * had accepted, LAB-FACTS: `apache2ctl stop` can cost a 502): any balancer loses those, at most one
 * per request loop, and how many depends on how fast the grading machine stops Apache, not on the
 * lab. Once the stop has returned, every failure counts: the balancer must pass requests on to the
 * remaining member but for the one that finds the stopped one gone (MAX_FAILED).
 */
export function heldFailures(
  m: { timeline: readonly { t: number; label: string }[]; events: readonly { t: number; what: string }[]; stoppedAt?: number; outageEnd?: number },
  loops = REQUEST_LOOPS,
): { duringStop: number; afterStop: number; held: number } {
  const start = m.stoppedAt ?? Infinity;
  const end = m.outageEnd ?? Infinity;
  const returned = m.events.find((e) => e.what === "stopped" && e.t >= start)?.t ?? start;
  const failed = m.timeline.filter((x) => x.t >= start && x.t <= end && x.label.startsWith("error:"));
  const duringStop = failed.filter((x) => x.t < returned).length;
  const afterStop = failed.length - duringStop;
  return { duringStop, afterStop, held: afterStop + Math.max(0, duringStop - loops) };
}
/** "3 failed requests, 2 of them while webserver1's Apache was stopping": a pass that counts failures says which were excused. */
export function failedPhrase(total: number, duringStop: number, victim: string): { es: string; en: string } {
  const es = `${total} ${total === 1 ? "petición fallida" : "peticiones fallidas"}`;
  const en = `${total} failed ${total === 1 ? "request" : "requests"}`;
  if (duringStop === 0 || total === 0) return { es, en };
  return {
    es: `${es}, ${Math.min(duringStop, total)} mientras Apache de ${victim} se paraba`,
    en: `${en}, ${Math.min(duringStop, total)} while ${victim}'s Apache was stopping`,
  };
}

/** Cookieless requests spent finding the route the balancer issues for the victim (byrequests reaches it within a cycle). */
const ROUTE_PROBES = 12;

/**
 * The route the balancer itself issues with the victim's page: a client carrying it is the one
 * stuck to the victim. A route swapped against the spec is proxy.routeid-cookie's fault; here it
 * must not make the "stuck" client start on the survivor. Without any cookie, the spec's route.
 */
async function issuedRoute(ctx: CheckContext, victim: Backend): Promise<string> {
  for (let i = 0; i < ROUTE_PROBES; i++) {
    const r = await ctx.http.get({ retries: 0 });
    if (!r.ok) continue;
    const route = issuedRoutes(ctx.spec.expect.cookieName, [{ backend: r.label ?? null, setCookie: r.setCookie }]).get(victim.name);
    if (route) return route;
  }
  return victim.route;
}

/**
 * When the balancer takes the stopped member back at the latest (epoch ms): Apache's `retry`
 * counted from the moment the outage was seen settled (the balancer had marked it failed by then).
 * Undefined when nothing was stopped or its return was measured.
 */
function balancerRetryUntil(m: FailoverMeasure): number | undefined {
  const stopped = m.guided ? m.guided.stopConfirmed : m.restore !== undefined && m.failure?.kind !== "change-failed";
  if (!stopped || m.rejoined || m.stoppedAt === undefined) return undefined;
  return m.clockStartedAt + (m.settledAt ?? m.outageEnd ?? m.stoppedAt) + APACHE_DEFAULT_RETRY_MS;
}

/**
 * Stop Apache on one web server: the VIP keeps answering, everything goes to the survivor, and
 * a client stuck to the stopped server gets a new ROUTEID for the survivor. Then start it again
 * (journaled, undone in all cases, verified on the server itself). Its return to the balancer is
 * Apache's own `retry` timer (60 s), not the student's work: it is measured only with --long;
 * otherwise the check says when it is due, and notes it so the next grade of the lab waits for it.
 * Without SSH to the web server, with --interactive, a person stops and starts it when asked.
 */
export default defineCheck({
  id: "proxy.failover",
  part: "proxy",
  title: text("Conmutación por error al parar un servidor web", "Failover when a web server stops"),
  points: 2,
  needs: ["http", "ssh", "disruptive"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  // A person gets PERSON_BOUND_MS for the stop and again for the start.
  timeoutMs: 240_000 + 2 * PERSON_BOUND_MS,
  async run(ctx) {
    const [victim, ...others] = ctx.spec.backends;
    if (!victim || others.length === 0) throw new Error("a failover needs two backends");
    const unavailable = await failoverUnavailable(ctx, victim);
    if (unavailable) return unavailable;
    const cookieName = ctx.spec.expect.cookieName;
    const victimRoute = await issuedRoute(ctx, victim);
    const sticky = ctx.http.client("sticky");
    await sticky.forgeCookie(ctx.http.target, cookieName, `.${victimRoute}`);
    const survivorNames = new Set(others.map((b) => b.name));
    // Moved: a survivor answered the stuck client and handed it a route other than the victim's.
    const movedMark = (m: Mark) => m.client === "sticky" && survivorNames.has(m.label) && typeof m.route === "string" && m.route !== victimRoute;
    const stickyMoved = (marks: Mark[], stoppedAt: number) => marks.some((m) => m.t >= stoppedAt && movedMark(m));

    const m = await measureFailover(ctx, victim, {
      clients: [{ name: "cookieless" }, { name: "sticky", client: sticky }],
      waitFor: stickyMoved,
      outageOk: (outage) =>
        outage.some((x) => others.some((b) => b.name === x.label)) && outage.filter((x) => x.label.startsWith("error:")).length <= MAX_FAILED + REQUEST_LOOPS,
      measureRejoin: ctx.options.long,
    });
    const retryUntil = balancerRetryUntil(m);
    if (retryUntil !== undefined) writeRejoinNote(ctx.options.journalDir, ctx.spec, victim.name, retryUntil);
    const summary = ev.failover({
      victim: m.victim,
      survivors: m.survivors,
      detectMs: m.detectMs ?? null,
      failedRequests: m.failedRequests,
      rejoinMeasured: m.rejoinMeasured,
      rejoined: m.rejoined,
      rejoinMs: m.rejoinMs ?? null,
      ...(retryUntil !== undefined ? { balancerRetryUntil: new Date(retryUntil).toISOString() } : {}),
      stoppedBy: m.guided ? "person" : "ssh",
      events: m.events,
      timeline: m.timeline,
    });
    const evidence: Evidence[] = [summary, ...(m.restore ? [ev.restore(m.restore)] : [])];

    const before = m.timeline.filter((x) => m.stoppedAt !== undefined && x.t < m.stoppedAt);
    const survivorsBefore = m.survivors.filter((n) => before.some((x) => x.label === n));
    if (m.victimStillAnswering && m.restore?.restored && !m.failure && survivorsBefore.length === 0) {
      // Only the victim's page was ever seen: the other member may be a second server showing the same page.
      return fail(
        text(
          `Por la VIP solo se vio la página de ${victim.name}, y siguió llegando con su servidor web parado: ${m.survivors.join(", ")} sirve la página de ${victim.name}, o ambas salen de un mismo servidor.`,
          `Only ${victim.name}'s page was seen through the VIP, and it kept coming with its web server stopped: ${m.survivors.join(", ")} serves ${victim.name}'s page, or both come from one server.`,
        ),
        text(
          `Dé a cada servidor web su propia página (la de ${m.survivors.join(", ")} debe nombrarlo) y apunte cada BalancerMember a un servidor distinto.`,
          `Give each web server its own page (${m.survivors.join(", ")}'s must name it) and point each BalancerMember to a different server.`,
        ),
        evidence,
      );
    }
    const shared = sharedFailoverVerdict(m, text(`su BalancerMember (${victim.address})`, `its BalancerMember (${victim.address})`), evidence);
    if (shared) return shared;
    const after = m.timeline.filter((x) => m.stoppedAt !== undefined && x.t >= m.stoppedAt && x.t <= (m.outageEnd ?? m.startedAt ?? Infinity));
    const served = after.filter((x) => m.survivors.includes(x.label));
    // Judged on the end of the outage: requests already on their way when the stop ran still count as served.
    const lateOutage = after.slice(Math.floor(after.length / 2));
    if (survivorsBefore.length > 0 && lateOutage.length > 0 && !lateOutage.some((x) => m.survivors.includes(x.label))) {
      // Stopping one server took the other's page down too: the "other" page came from it.
      return fail(
        text(
          `Al parar solo ${victim.name}, también desapareció la página de ${survivorsBefore.join(", ")}: ambas páginas salen de un mismo servidor.`,
          `Stopping only ${victim.name} also took down ${survivorsBefore.join(", ")}'s page: both pages come from one server.`,
        ),
        text("Cada BalancerMember debe apuntar a un servidor web distinto, con su propia página.", "Each BalancerMember must point to a different web server, with its own page."),
        evidence,
      );
    }
    const failures = heldFailures(m);
    if (served.length === 0 || failures.held > MAX_FAILED) {
      const whileStopping =
        failures.duringStop > 0
          ? text(
              `; ${failures.duringStop} más fallaron mientras Apache de ${victim.name} se paraba (hasta ${REQUEST_LOOPS}, una por bucle de peticiones, no cuentan)`,
              `; ${failures.duringStop} more failed while ${victim.name}'s Apache was stopping (up to ${REQUEST_LOOPS}, one per request loop, do not count)`,
            )
          : text("", "");
      return fail(
        text(
          `Al parar ${victim.name}, la VIP falló ${failures.afterStop} de ${after.length} peticiones después de que la parada terminara (se admite ${MAX_FAILED})${whileStopping.es}.`,
          `With ${victim.name} stopped, the VIP failed ${failures.afterStop} of ${after.length} requests after the stop had returned (${MAX_FAILED} allowed)${whileStopping.en}.`,
        ),
        text(
          `Compruebe que ${m.survivors.join(", ")} está en el balanceador y sirve su página; el proxy debe saltar al miembro que queda.`,
          `Check that ${m.survivors.join(", ")} is in the balancer and serves its page; the proxy must move to the remaining member.`,
        ),
        evidence,
      );
    }
    if (!after.some(movedMark)) {
      // A survivor that issues the victim's own route: Apache serves the stuck client from it with
      // no new cookie (the route did not change), and sends it back once the victim returns.
      const sameRoute = m.survivors.filter((n) => m.timeline.some((x) => x.label === n && x.route === victimRoute));
      if (sameRoute.length > 0) {
        const misnamed = others.filter((b) => sameRoute.includes(b.name));
        return fail(
          text(
            `${sameRoute.join(", ")} emite la misma ruta que ${victim.name} (${cookieName}=.${victimRoute}): su cliente siguió sin cookie nueva y volverá a ${victim.name} en cuanto arranque.`,
            `${sameRoute.join(", ")} issues the same route as ${victim.name} (${cookieName}=.${victimRoute}): its client got no new cookie and will go back to ${victim.name} as soon as it starts.`,
          ),
          ownRouteFix(misnamed),
          evidence,
        );
      }
      return fail(
        text(
          `El cliente con ${cookieName}=.${victimRoute} no recibió una cookie nueva para ${m.survivors.join(", ")} tras la caída.`,
          `The client with ${cookieName}=.${victimRoute} got no new cookie for ${m.survivors.join(", ")} after the failure.`,
        ),
        text(
          `Use Header add Set-Cookie "${cookieName}=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED para que el cliente cambie de ruta.`,
          `Use Header add Set-Cookie "${cookieName}=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED so the client changes route.`,
        ),
        evidence,
      );
    }
    const failed = failedPhrase(m.failedRequests, failures.duringStop, victim.name);
    if (!m.rejoinMeasured) {
      const inS = Math.max(0, Math.round(((retryUntil ?? Date.now()) - Date.now()) / 1000));
      const again = m.guided
        ? { es: `${victim.name} se arrancó de nuevo`, en: `${victim.name} was started again` }
        : { es: `${victim.name} vuelve a servir su página en local (comprobado)`, en: `${victim.name} serves its page locally again (verified)` };
      return pass(
        text(
          `La VIP siguió sirviendo desde ${m.survivors.join(", ")} (${failed.es}, detección en ${m.detectMs ?? 0} ms); el cliente fijado cambió de ruta; ${again.es}. El balanceador le enviará tráfico de nuevo cuando venza su retry= (60 s por defecto), en unos ${inS} s; --long mide esa vuelta.`,
          `The VIP kept serving from ${m.survivors.join(", ")} (${failed.en}, detected in ${m.detectMs ?? 0} ms); the stuck client changed route; ${again.en}. The balancer sends it traffic again once its retry= runs out (60 s by default), in about ${inS} s; --long measures that return.`,
        ),
        evidence,
      );
    }
    if (!m.rejoined) {
      const again = m.guided ? { es: "se arrancó de nuevo", en: "was started again" } : { es: "volvió a servir en local", en: "serves locally again" };
      const bound = Math.round(ctx.spec.timeouts.rejoin / 1000);
      if (ctx.spec.timeouts.rejoin < APACHE_DEFAULT_RETRY_MS) {
        // A correct lab cannot show its return inside that bound: the spec, not the student, decides this one.
        return inconclusive(
          text(
            `${victim.name} ${again.es}, pero el balanceador no le envió tráfico en ${bound} s, menos que el retry= por defecto de Apache (60 s): puede que aún lo estuviera esperando.`,
            `${victim.name} ${again.en}, but the balancer sent it no traffic within ${bound} s, less than Apache's default retry= (60 s): it may still have been waiting.`,
          ),
          text(
            "Suba timeouts.rejoin de la especificación por encima del retry= de los BalancerMember (por defecto 60 s; p. ej. 90000) y repita.",
            "Raise the spec's timeouts.rejoin above the BalancerMembers' retry= (60 s by default; e.g. 90000) and run again.",
          ),
          evidence,
        );
      }
      return fail(
        text(`${victim.name} ${again.es}, pero el balanceador no le envió tráfico en ${bound} s.`, `${victim.name} ${again.en}, but the balancer sent it no traffic within ${bound} s.`),
        text("Revise retry= y status= del BalancerMember (por defecto vuelve tras 60 s).", "Check the BalancerMember's retry= and status= (by default it returns after 60 s)."),
        evidence,
      );
    }
    return pass(
      text(
        `La VIP siguió sirviendo desde ${m.survivors.join(", ")} (${failed.es}, detección en ${m.detectMs ?? 0} ms); el cliente fijado cambió de ruta; ${victim.name} volvió a recibir tráfico a los ${((m.rejoinMs ?? 0) / 1000).toFixed(1)} s de arrancarlo.`,
        `The VIP kept serving from ${m.survivors.join(", ")} (${failed.en}, detected in ${m.detectMs ?? 0} ms); the stuck client changed route; ${victim.name} got traffic again ${((m.rejoinMs ?? 0) / 1000).toFixed(1)} s after it started.`,
      ),
      evidence,
    );
  },
});
