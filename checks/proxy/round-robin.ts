import { defineCheck, ev, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import { expectedLoadfactors, proxyKeepAliveSample } from "../../src/runner/ratio.js";
import { keepAliveBehaviour } from "../../src/stats/index.js";

/**
 * Apache byrequests balances each REQUEST, also on one keep-alive connection; LVS would pin
 * the connection to one server. That per-request switching is what this step of the lab shows.
 */
export default defineCheck({
  id: "proxy.round-robin",
  part: "proxy",
  title: text("Reparto por petición (byrequests) sin cookie", "Per-request balancing (byrequests) without a cookie"),
  points: 2,
  needs: ["http"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  async run(ctx) {
    const { records, verdict, evidence } = await proxyKeepAliveSample(ctx);
    const expected = expectedLoadfactors(ctx);
    // Judge each connection on its own: a reopened connection must not hide pinning.
    const byConnection = new Map<number, string[]>();
    for (const r of records) {
      if (r.connectionId === null) continue;
      byConnection.set(r.connectionId, [...(byConnection.get(r.connectionId) ?? []), r.label]);
    }
    const longest = [...byConnection.values()].sort((a, b) => b.length - a.length)[0] ?? [];
    const behaviour = keepAliveBehaviour(longest, expected);
    const facts = ev.keepAliveBehaviour({ connections: byConnection.size, ...behaviour });
    const equal = new Set(Object.values(expected)).size === 1;

    if (behaviour.behaviour === "pinned") {
      return fail(
        text(
          `Las ${behaviour.nValid} peticiones de una misma conexión van siempre a ${behaviour.backendsSeen.join(", ")}: no se reparte por petición.`,
          `All ${behaviour.nValid} requests of one connection reach ${behaviour.backendsSeen.join(", ")}: requests are not balanced one by one.`,
        ),
        text(
          "Use ProxyPass / balancer://mcluster/ lbmethod=byrequests con un BalancerMember por servidor web, y compruebe que ambos servidores están arrancados.",
          "Use ProxyPass / balancer://mcluster/ lbmethod=byrequests with one BalancerMember per web server, and check both web servers run.",
        ),
        [facts, evidence],
      );
    }
    if (behaviour.behaviour === "undecided") {
      return inconclusive(
        text(`Muy pocas respuestas válidas en una conexión (${behaviour.nValid}).`, `Too few valid answers on one connection (${behaviour.nValid}).`),
        text("Compruebe que la VIP responde de forma estable y repita.", "Check the VIP answers steadily and run again."),
        [facts, evidence],
      );
    }
    // Per-request switching is shown; with equal loadfactors the ratio is this step's 1:1 too.
    if (equal && verdict.outcome !== "pass") {
      const v = verdict.outcome === "fail" ? fail : inconclusive;
      return v(
        text(`Se reparte por petición, pero no 1:1: ${verdict.explanation.es}`, `Balanced per request, but not 1:1: ${verdict.explanation.en}`),
        text("Ponga el mismo loadfactor a todos los BalancerMember.", "Give every BalancerMember the same loadfactor."),
        [facts, evidence],
      );
    }
    return pass(
      text(
        `Una misma conexión keep-alive llega a ${behaviour.backendsSeen.join(" y ")} (${behaviour.switches} cambios en ${behaviour.nValid} peticiones).`,
        `One keep-alive connection reaches ${behaviour.backendsSeen.join(" and ")} (${behaviour.switches} switches in ${behaviour.nValid} requests).`,
      ),
      [facts, evidence],
    );
  },
});
