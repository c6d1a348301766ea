import pRetry from "p-retry";
import { defineCheck, ev, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import { failoverUnavailable, measureFailover, PERSON_BOUND_MS, sharedFailoverVerdict } from "../../src/runner/failover.js";
import { findIpvsService } from "../../src/inspect/index.js";
import { heldVip, readIpvsTable, unresolvedVipText, vipUnresolved } from "./ipvs.js";
import type { Evidence } from "../../src/model/index.js";

/**
 * Until keepalived's health check notices, IPVS still sends connections to the stopped server
 * and they fail: TCP_CHECK with delay_loop 3 takes 2.5–3.7 s, with retry 2 and
 * delay_before_retry 1 up to 6.5 s (LAB-FACTS), longer on a loaded VM. Those failures are
 * measured and reported, not judged: what is judged is that the server leaves the table and the
 * VIP then serves every request (the failover settles), within timeouts.failover.
 */
/** Client addresses watching: with persistence each is pinned, so some must sit on the victim. */
const WATCHERS = 4;

/**
 * Stop the web server (not the host) on one real server over SSH: the VIP keeps serving, the
 * stopped server leaves the IPVS table, and after it is started again (journaled, undone in all
 * cases, verified) keepalived puts it back.
 */
export default defineCheck({
  id: "lvs.failover",
  part: "lvs",
  title: text("Conmutación por error de LVS al parar un servidor web", "LVS failover when a web server stops"),
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
    // Guided without any SSH, the IPVS table cannot be read: the VIP's traffic alone decides.
    const ssh = ctx.ssh?.has("balancer") ? ctx.ssh : undefined;
    // The VIP as the balancer holds it, settled before anything is stopped.
    const held = await heldVip(ctx);
    if (ssh && vipUnresolved(held)) {
      const { message, fix } = unresolvedVipText(ctx.spec, held, []);
      return inconclusive(message, fix);
    }
    const inTable = async () => {
      if (!ssh) return false;
      // Only a whole table can say the server left it (readIpvsTable throws on anything else).
      const { table } = await readIpvsTable(ctx);
      const service = findIpvsService(table, held.address, held.port);
      return service?.realServers.some((s) => s.address === victim.address && s.port === victim.port) ?? false;
    };
    const clients = [
      { name: "grader" },
      ...ctx.spec.grader.sourceAddresses.slice(0, WATCHERS - 1).map((a) => ({ name: a, client: ctx.http.client(a, a) })),
    ];
    let leftTable: boolean | undefined;
    const m = await measureFailover(ctx, victim, {
      clients,
      ...(ssh
        ? {
            duringOutage: async () => {
              // A read, safe to repeat: one slow answer from a loaded balancer must not void the measurement.
              leftTable = !(await pRetry(inTable, { retries: 2, minTimeout: 500, signal: ctx.signal }));
            },
            rejoined: inTable,
          }
        : {}),
      outageOk: (outage) => outage.some((x) => others.some((b) => b.name === x.label)),
    });
    const stoppedAt = m.stoppedAt ?? 0;
    const outage = m.timeline.filter((x) => x.t >= stoppedAt && x.t <= (m.outageEnd ?? m.startedAt ?? Infinity));
    // Requests that failed after the server had left the table are the balancer's fault, not detection delay.
    const lastFailure = outage.filter((x) => x.label.startsWith("error:")).pop();
    const evidence: Evidence[] = [
      ev.failover({
        victim: m.victim,
        survivors: m.survivors,
        detectMs: m.detectMs ?? null,
        failedRequests: m.failedRequests,
        lastFailureMs: lastFailure ? lastFailure.t - stoppedAt : null,
        leftTable: leftTable ?? null,
        rejoined: m.rejoined,
        rejoinMs: m.rejoinMs ?? null,
        stoppedBy: m.guided ? "person" : "ssh",
        events: m.events,
        timeline: m.timeline,
      }),
      ...(m.restore ? [ev.restore(m.restore)] : []),
    ];
    const vs = `virtual_server ${held.address} ${held.port}`;
    const shared = sharedFailoverVerdict(m, text(`su real_server en ${vs}`, `its real_server in ${vs}`), evidence);
    if (shared) return shared;
    const served = outage.filter((x) => m.survivors.includes(x.label)).length;
    if (served === 0 || leftTable === false) {
      const why =
        served === 0
          ? { es: "la VIP dejó de servir", en: "the VIP stopped serving" }
          : { es: `${victim.name} sigue en la tabla de IPVS y las conexiones a él fallan`, en: `${victim.name} is still in the IPVS table and connections to it fail` };
      return fail(
        text(`Al parar ${victim.name}: ${why.es}.`, `With ${victim.name} stopped: ${why.en}.`),
        text(
          `Cada real_server de ${vs} necesita un chequeo (TCP_CHECK { connect_port ${victim.port} connect_timeout 3 } o HTTP_GET) para que keepalived lo saque de la tabla.`,
          `Each real_server of ${vs} needs a health check (TCP_CHECK { connect_port ${victim.port} connect_timeout 3 } or HTTP_GET) so keepalived takes it out of the table.`,
        ),
        evidence,
      );
    }
    if (!m.rejoined) {
      return fail(
        text(`${victim.name} vuelve a servir en local, pero keepalived no lo devolvió a la tabla de IPVS en ${Math.round(ctx.spec.timeouts.rejoin / 1000)} s.`, `${victim.name} serves locally again, but keepalived did not put it back in the IPVS table within ${Math.round(ctx.spec.timeouts.rejoin / 1000)} s.`),
        text("Revise el chequeo del real_server (puerto, ruta y digest).", "Check the real_server's health check (port, path and digest)."),
        evidence,
      );
    }
    return pass(
      text(
        `La VIP siguió sirviendo desde ${m.survivors.join(", ")} (${m.failedRequests} peticiones fallidas en ${(((lastFailure?.t ?? stoppedAt) - stoppedAt) / 1000).toFixed(1)} s, mientras keepalived lo detectaba); ${victim.name} salió de la tabla y volvió a ella ${((m.rejoinMs ?? 0) / 1000).toFixed(1)} s después de arrancarlo.`,
        `The VIP kept serving from ${m.survivors.join(", ")} (${m.failedRequests} failed requests over ${(((lastFailure?.t ?? stoppedAt) - stoppedAt) / 1000).toFixed(1)} s, while keepalived noticed); ${victim.name} left the table and came back ${((m.rejoinMs ?? 0) / 1000).toFixed(1)} s after it started.`,
      ),
      evidence,
    );
  },
});
