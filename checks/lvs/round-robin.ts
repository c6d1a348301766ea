import { defineCheck, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import { countLabels } from "../../src/runner/evidence.js";
import type { Text } from "../../src/model/index.js";
import { connectionSample, equalWeights, expectedWeights, ipvsServiceEvidence, isPinned, optionalVipService, tableVouches, vouchEvidence, weightedStep, type TableVouch } from "./ipvs.js";

/**
 * Part 1, step 3: the director balances every new TCP connection (keep-alive would pin all
 * requests of one connection to one server). At the rr step new connections alternate 1:1,
 * decided by the statistics core (α, β ≤ 0.001).
 *
 * When the lab's step asks for wrr (weights 3:1), a 1:1 ratio would be a false fail: there this
 * check only asks that the scheduler balances per connection at all (every server gets new
 * connections from one sample), and lvs.weights judges the ratio from the same sample.
 *
 * With persistence one client address always reaches one server: the scheduler is then judged
 * from many client addresses (grader.sourceAddresses, one connection each). Where those are too
 * few to decide (or there are none), the kernel's table read over SSH decides (ipvs.ts
 * tableVouches: the step's scheduler, persistent, every web server with weight > 0, the VIP
 * served by a web server) as long as the sample contradicts nothing; without SSH the check
 * names what it saw and is inconclusive, never a false fail.
 */
export default defineCheck({
  id: "lvs.round-robin",
  part: "lvs",
  title: text("Reparto round robin por conexión", "Round robin per connection"),
  points: 2,
  needs: ["http", "ssh-if-given"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  async run(ctx) {
    const view = await optionalVipService(ctx);
    const weighted = weightedStep(ctx);
    const expected = weighted ? (expectedWeights(ctx, view).weights ?? equalWeights(ctx.spec)) : equalWeights(ctx.spec);
    const pinned = isPinned(ctx, view);
    const sample = await connectionSample(ctx, expected, pinned);
    const scheduler = view?.service?.scheduler;
    const tableEvidence = view?.service ? [ipvsServiceEvidence(view)] : [];
    const lbAlgo = weighted ? "wrr" : "rr";
    const vouch = pinned && view ? await tableVouches(ctx, view, lbAlgo) : undefined;
    if (!sample && vouch) return pass(byTable(vouch), [...tableEvidence, vouchEvidence(vouch)]);
    if (!sample) {
      return inconclusive(
        text(
          `Con persistencia, un cliente siempre llega al mismo servidor: con una sola dirección no se ve el reparto.${scheduler ? ` ipvsadm -Ln muestra el planificador ${scheduler}.` : ""}`,
          `With persistence one client always reaches the same server: one address cannot show the balancing.${scheduler ? ` ipvsadm -Ln shows scheduler ${scheduler}.` : ""}`,
        ),
        text(
          "Indique en grader.sourceAddresses otras direcciones de este equipo (cada una es otro cliente), o dé acceso SSH al balanceador.",
          "List other addresses of this machine under grader.sourceAddresses (each one is another client), or give SSH access to the balancer.",
        ),
        tableEvidence,
      );
    }
    const evidence = [sample.evidence, ...tableEvidence];
    const how = sample.clients === "many" ? { es: "una conexión por dirección cliente", en: "one connection per client address" } : { es: "conexiones nuevas desde un cliente", en: "new connections from one client" };
    const fixLine = text(
      `En el virtual_server: lb_algo ${lbAlgo}, lb_kind NAT, y un real_server por servidor web; recargue keepalived.`,
      `In the virtual_server: lb_algo ${lbAlgo}, lb_kind NAT, and one real_server per web server; reload keepalived.`,
    );
    if (weighted) {
      const counts = countLabels(sample.records);
      const names = ctx.spec.backends.map((b) => b.name);
      const unseen = names.filter((n) => !counts[n]);
      const list = names.map((n) => `${n}: ${counts[n] ?? 0}`).join(", ");
      if (unseen.length === 0) {
        return pass(text(`Reparte por conexión (${how.es}: ${list}); lvs.weights juzga la proporción.`, `Balances per connection (${how.en}: ${list}); lvs.weights judges the ratio.`), evidence);
      }
      // Fewer connections than one weighted turn: a server may rightly have had none yet.
      const turn = Object.values(expected).reduce((a, b) => a + b, 0);
      if (sample.records.length < turn) {
        if (vouch && sample.records.every((r) => r.backend !== undefined)) {
          const told = byTable(vouch);
          return pass(text(`${told.es} ${how.es}: ${list}, menos de un turno de wrr (${turn}).`, `${told.en} ${how.en}: ${list}, fewer than one wrr turn (${turn}).`), evidence);
        }
        return inconclusive(
          text(`${sample.records.length} ${how.es} (${list}) son menos de un turno de wrr (${turn}): aún no se sabe si ${unseen.join(", ")} recibe conexiones.`, `${sample.records.length} ${how.en} (${list}) are fewer than one wrr turn (${turn}): whether ${unseen.join(", ")} gets connections is not known yet.`),
          text("Indique en grader.sourceAddresses más direcciones de este equipo, o dé acceso SSH al balanceador.", "List more addresses of this machine under grader.sourceAddresses, or give SSH access to the balancer."),
          evidence,
        );
      }
      return fail(
        text(`${sample.records.length} ${how.es}: ${list}; ${unseen.join(", ")} no recibe ninguna.`, `${sample.records.length} ${how.en}: ${list}; ${unseen.join(", ")} gets none.`),
        fixLine,
        evidence,
      );
    }
    const v = sample.verdict;
    if (v.outcome === "pass") return pass(text(`${how.es}: ${v.explanation.es}`, `${how.en}: ${v.explanation.en}`), evidence);
    if (v.outcome === "fail") {
      const note = scheduler && scheduler !== "rr" ? { es: ` ipvsadm -Ln muestra ${scheduler}.`, en: ` ipvsadm -Ln shows ${scheduler}.` } : { es: "", en: "" };
      return fail(text(`${how.es}: ${v.explanation.es}${note.es}`, `${how.en}: ${v.explanation.en}${note.en}`), fixLine, evidence);
    }
    if (vouch && sample.records.length > 0 && sample.records.every((r) => r.backend !== undefined)) {
      const told = byTable(vouch);
      return pass(text(`${told.es} La muestra (${how.es}) no lo contradice; por sí sola: ${v.explanation.es}`, `${told.en} The sample (${how.en}) does not contradict it; on its own: ${v.explanation.en}`), evidence);
    }
    return inconclusive(
      text(`${how.es}: ${v.explanation.es}`, `${how.en}: ${v.explanation.en}`),
      text(
        `Aumente sampling.maxRequests (ahora ${ctx.spec.sampling.maxRequests}) o grader.sourceAddresses, o revise los errores de la VIP.`,
        `Raise sampling.maxRequests (now ${ctx.spec.sampling.maxRequests}) or grader.sourceAddresses, or look at the VIP's errors.`,
      ),
      evidence,
    );
  },
});

/** The pass message when the table decides under persistence. */
function byTable(vouch: TableVouch): Text {
  return text(
    `ipvsadm -Ln muestra el planificador ${vouch.scheduler} con todos los servidores reales con peso > 0 y persistencia de ${vouch.persistent} s, y la VIP sirve la página de ${vouch.answered.backend ?? "?"}: cada cliente nuevo se reparte por conexión. Con persistencia cada dirección cliente llega siempre al mismo servidor, así que lo decide la tabla del núcleo.`,
    `ipvsadm -Ln shows scheduler ${vouch.scheduler} with every real server at weight > 0 and persistence of ${vouch.persistent} s, and the VIP serves ${vouch.answered.backend ?? "?"}'s page: each new client is balanced per connection. With persistence each client address always reaches the same server, so the kernel's table decides.`,
  );
}
