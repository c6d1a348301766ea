import { defineCheck, fail, pass, text } from "../../src/runner/check.js";
import { failoverUnavailable, measureFailover, PERSON_BOUND_MS, sharedFailoverVerdict, type Mark } from "../../src/runner/failover.js";
import type { Evidence } from "../../src/runner/types.js";

/** Failed requests tolerated while Apache notices the stopped member (LAB-FACTS: a stop can cost one 502). */
const MAX_FAILED = 1;

/**
 * Stop Apache on one web server: the VIP keeps answering, everything goes to the survivor, and
 * a client stuck to the stopped server gets a new ROUTEID for the survivor. Then start it again
 * (journaled, undone in all cases, verified) and time its return (Apache's `retry`, 60 s).
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
    const sticky = ctx.http.client("sticky");
    await sticky.forgeCookie(ctx.http.target, cookieName, `.${victim.route}`);
    const survivorRoutes = new Set(others.map((b) => b.route));
    const stickyMoved = (marks: Mark[], stoppedAt: number) =>
      marks.some((m) => m.t >= stoppedAt && m.client === "sticky" && m.route !== undefined && m.route !== null && survivorRoutes.has(m.route));

    const m = await measureFailover(ctx, victim, {
      clients: [{ name: "cookieless" }, { name: "sticky", client: sticky }],
      waitFor: stickyMoved,
      outageOk: (outage) =>
        outage.some((x) => others.some((b) => b.name === x.label)) && outage.filter((x) => x.label.startsWith("error:")).length <= MAX_FAILED,
    });
    const summary = {
      kind: "failover",
      victim: m.victim,
      survivors: m.survivors,
      detectMs: m.detectMs ?? null,
      failedRequests: m.failedRequests,
      rejoined: m.rejoined,
      rejoinMs: m.rejoinMs ?? null,
      stoppedBy: m.guided ? "person" : "ssh",
      events: m.events,
      timeline: m.timeline,
    };
    const evidence: Evidence[] = [summary, ...(m.restore ? [{ kind: "restore", ...m.restore }] : [])];

    const shared = sharedFailoverVerdict(m, text(`su BalancerMember (${victim.address})`, `its BalancerMember (${victim.address})`), evidence);
    if (shared) return shared;
    const after = m.timeline.filter((x) => m.stoppedAt !== undefined && x.t >= m.stoppedAt && x.t <= (m.outageEnd ?? m.startedAt ?? Infinity));
    const served = after.filter((x) => m.survivors.includes(x.label));
    const before = m.timeline.filter((x) => m.stoppedAt !== undefined && x.t < m.stoppedAt);
    const survivorsBefore = m.survivors.filter((n) => before.some((x) => x.label === n));
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
    if (served.length === 0 || m.failedRequests > MAX_FAILED) {
      return fail(
        text(
          `Al parar ${victim.name}, la VIP falló ${m.failedRequests} de ${after.length} peticiones (se admite ${MAX_FAILED}).`,
          `With ${victim.name} stopped, the VIP failed ${m.failedRequests} of ${after.length} requests (${MAX_FAILED} allowed).`,
        ),
        text(
          `Compruebe que ${m.survivors.join(", ")} está en el balanceador y sirve su página; el proxy debe saltar al miembro que queda.`,
          `Check that ${m.survivors.join(", ")} is in the balancer and serves its page; the proxy must move to the remaining member.`,
        ),
        evidence,
      );
    }
    if (!after.some((x) => x.client === "sticky" && x.route && survivorRoutes.has(x.route))) {
      return fail(
        text(
          `El cliente con ${cookieName}=.${victim.route} no recibió una cookie nueva para ${m.survivors.join(", ")} tras la caída.`,
          `The client with ${cookieName}=.${victim.route} got no new cookie for ${m.survivors.join(", ")} after the failure.`,
        ),
        text(
          `Use Header add Set-Cookie "${cookieName}=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED para que el cliente cambie de ruta.`,
          `Use Header add Set-Cookie "${cookieName}=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED so the client changes route.`,
        ),
        evidence,
      );
    }
    if (!m.rejoined) {
      const again = m.guided ? { es: "se arrancó de nuevo", en: "was started again" } : { es: "volvió a servir en local", en: "serves locally again" };
      return fail(
        text(
          `${victim.name} ${again.es}, pero el balanceador no le envió tráfico en ${Math.round(ctx.spec.timeouts.rejoin / 1000)} s.`,
          `${victim.name} ${again.en}, but the balancer sent it no traffic within ${Math.round(ctx.spec.timeouts.rejoin / 1000)} s.`,
        ),
        text("Revise retry= y status= del BalancerMember (por defecto vuelve tras 60 s).", "Check the BalancerMember's retry= and status= (by default it returns after 60 s)."),
        evidence,
      );
    }
    return pass(
      text(
        `La VIP siguió sirviendo desde ${m.survivors.join(", ")} (${m.failedRequests} ${m.failedRequests === 1 ? "petición fallida" : "peticiones fallidas"}, detección en ${m.detectMs ?? 0} ms); el cliente fijado cambió de ruta; ${victim.name} volvió a recibir tráfico a los ${((m.rejoinMs ?? 0) / 1000).toFixed(1)} s de arrancarlo.`,
        `The VIP kept serving from ${m.survivors.join(", ")} (${m.failedRequests} failed ${m.failedRequests === 1 ? "request" : "requests"}, detected in ${m.detectMs ?? 0} ms); the stuck client changed route; ${victim.name} got traffic again ${((m.rejoinMs ?? 0) / 1000).toFixed(1)} s after it started.`,
      ),
      evidence,
    );
  },
});
