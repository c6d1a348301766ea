import { defineCheck, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import type { Weights } from "../../src/stats/index.js";
import { countLabels } from "../../src/runner/evidence.js";
import { allEqual, connectionSample, equalWeights, expectedWeights, ipvsServiceEvidence, isPinned, isWeightedScheduler, optionalVipService, ratioText, realServerLines, realServersByBackend, tableVouches, vouchEvidence, weightedStep, type TableVouch } from "./ipvs.js";

/**
 * Part 1, wrr step: new connections split as the real servers' weights (3:1 gives 9:3 over 12
 * connections). The expected weights are the spec's backends[].weight; without them, the ones
 * ipvsadm shows (said in the message). The table catches two classic faults before any
 * sampling: weights set while the scheduler is still rr (rr ignores them), and weights that
 * are not the expected ones; the sample then confirms the traffic follows them.
 *
 * Under persistence a client address gets one new connection's worth of scheduling, so the
 * sample is one connection per address and can rarely tell 3:1 from 2:1 or 4:1 (and never with
 * one address). There the table, read whole over SSH, is the primary evidence: the check passes
 * when it holds the expected scheduler and weights with persistence (ipvs.ts tableVouches), the
 * VIP serves a web server's page, and the sample, whatever its size, rejects nothing and holds
 * only the web servers' pages. A sample that rejects the weights still fails.
 */
export default defineCheck({
  id: "lvs.weights",
  part: "lvs",
  title: text("Pesos wrr de los servidores reales", "wrr weights of the real servers"),
  points: 2,
  needs: ["http", "ssh-if-given"],
  dependsOn: ["net.vip-http"],
  usesVip: true,
  async run(ctx) {
    const view = await optionalVipService(ctx);
    const found = expectedWeights(ctx, view);
    const scheduler = view?.service?.scheduler;
    const tableEvidence = view?.service ? [ipvsServiceEvidence(view, found.tableWeights)] : [];
    const absent = view?.service ? realServersByBackend(ctx.spec, view.service).filter((r) => !r.server).map((r) => r.backend.name) : [];
    if (!found.weights && absent.length) {
      return inconclusive(
        text(
          `El fichero del laboratorio no da pesos y ipvsadm -Ln no lista ${absent.join(", ")}: no se sabe qué proporción esperar (vea lvs.virtual-server).`,
          `The lab spec gives no weights and ipvsadm -Ln does not list ${absent.join(", ")}: the ratio to expect is unknown (see lvs.virtual-server).`,
        ),
        text("Ponga backends[].weight en el fichero del laboratorio, o corrija primero lvs.virtual-server.", "Set backends[].weight in the lab spec, or fix lvs.virtual-server first."),
        tableEvidence,
      );
    }
    if (!found.weights) {
      return inconclusive(
        text("El fichero del laboratorio no da pesos (backends[].weight) y no se pudo leer ipvsadm -Ln.", "The lab spec gives no weights (backends[].weight) and ipvsadm -Ln could not be read."),
        text("Ponga backends[].weight en el fichero del laboratorio o dé acceso SSH al balanceador.", "Set backends[].weight in the lab spec or give SSH access to the balancer."),
        tableEvidence,
      );
    }
    let expected: Weights = found.weights;
    const source = found.source === "spec"
      ? { es: "los pesos esperados", en: "the expected weights" }
      : { es: "los pesos que muestra ipvsadm -Ln (el fichero del laboratorio no los da)", en: "the weights ipvsadm -Ln shows (the lab spec gives none)" };
    const fixWeights = text(
      `En el virtual_server: lb_algo wrr y en cada servidor real su peso: ${realServerLines(ctx.spec, expected)}; recargue keepalived.`,
      `In the virtual_server: lb_algo wrr and each real server's weight: ${realServerLines(ctx.spec, expected)}; reload keepalived.`,
    );
    const wantsWrr = weightedStep(ctx) || !allEqual(expected);
    if (scheduler !== undefined && !isWeightedScheduler(scheduler)) {
      if (wantsWrr && (found.source === "spec" || ctx.spec.expect.lbAlgo === "wrr")) {
        return fail(
          text(
            `ipvsadm -Ln muestra el planificador ${scheduler}${found.tableWeights ? ` con pesos ${ratioText(ctx.spec, found.tableWeights)}` : ""}: ${scheduler} no usa los pesos, reparte 1:1. Se espera wrr ${ratioText(ctx.spec, expected)}.`,
            `ipvsadm -Ln shows scheduler ${scheduler}${found.tableWeights ? ` with weights ${ratioText(ctx.spec, found.tableWeights)}` : ""}: ${scheduler} ignores weights and splits 1:1. Expected wrr ${ratioText(ctx.spec, expected)}.`,
          ),
          text("Cambie lb_algo rr por lb_algo wrr en el virtual_server y recargue keepalived.", "Change lb_algo rr to lb_algo wrr in the virtual_server and reload keepalived."),
          tableEvidence,
        );
      }
      // Weights read from the table under an unweighted scheduler: the traffic must split evenly.
      if (found.source === "table") expected = equalWeights(ctx.spec);
    }
    if (found.source === "spec" && found.tableWeights && ratioText(ctx.spec, found.tableWeights) !== ratioText(ctx.spec, expected)) {
      return fail(
        text(
          `ipvsadm -Ln muestra pesos ${ratioText(ctx.spec, found.tableWeights)}; se esperan ${ratioText(ctx.spec, expected)}.`,
          `ipvsadm -Ln shows weights ${ratioText(ctx.spec, found.tableWeights)}; expected ${ratioText(ctx.spec, expected)}.`,
        ),
        fixWeights,
        tableEvidence,
      );
    }
    const sample = await connectionSample(ctx, expected, isPinned(ctx, view));
    const vouch = found.source === "spec" && view ? await tableVouches(ctx, view, wantsWrr ? "wrr" : "rr", expected) : undefined;
    if (!sample && vouch) return pass(byTable(ctx.spec, vouch, source), [...tableEvidence, vouchEvidence(vouch)]);
    if (!sample) {
      return inconclusive(
        text(
          `Con persistencia, un cliente siempre llega al mismo servidor: con una sola dirección no se ve la proporción.${found.tableWeights ? ` ipvsadm -Ln muestra ${scheduler ?? "?"} con pesos ${ratioText(ctx.spec, found.tableWeights)}.` : ""}`,
          `With persistence one client always reaches the same server: one address cannot show the ratio.${found.tableWeights ? ` ipvsadm -Ln shows ${scheduler ?? "?"} with weights ${ratioText(ctx.spec, found.tableWeights)}.` : ""}`,
        ),
        text(
          "Indique en grader.sourceAddresses otras direcciones de este equipo (cada una es otro cliente).",
          "List other addresses of this machine under grader.sourceAddresses (each one is another client).",
        ),
        tableEvidence,
      );
    }
    const evidence = [sample.evidence, ...tableEvidence];
    const v = sample.verdict;
    if (v.outcome === "inconclusive" && vouch && sample.records.length > 0 && sample.records.every((r) => r.backend !== undefined)) {
      const counts = countLabels(sample.records);
      const seen = ctx.spec.backends.map((b) => `${b.name}: ${counts[b.name] ?? 0}`).join(", ");
      const told = byTable(ctx.spec, vouch, source);
      return pass(
        text(
          `${told.es} La primera conexión de ${sample.records.length} direcciones cliente (${seen}) no lo contradice; por sí sola: ${v.explanation.es}`,
          `${told.en} The first connection of ${sample.records.length} client addresses (${seen}) does not contradict it; on its own: ${v.explanation.en}`,
        ),
        evidence,
      );
    }
    if (v.outcome === "pass") return pass(text(`Según ${source.es}: ${v.explanation.es}`, `By ${source.en}: ${v.explanation.en}`), evidence);
    if (v.outcome === "fail") {
      const disagreement = trafficAgainstTable(scheduler, found.tableWeights ? ratioText(ctx.spec, found.tableWeights) : undefined);
      return fail(
        text(`Según ${source.es}: ${v.explanation.es}${disagreement.es}`, `By ${source.en}: ${v.explanation.en}${disagreement.en}`),
        disagreement.es ? disagreementFix : fixWeights,
        evidence,
      );
    }
    return inconclusive(
      v.explanation,
      text(
        `Aumente sampling.maxRequests (ahora ${ctx.spec.sampling.maxRequests}) o grader.sourceAddresses, o revise los errores de la VIP.`,
        `Raise sampling.maxRequests (now ${ctx.spec.sampling.maxRequests}) or grader.sourceAddresses, or look at the VIP's errors.`,
      ),
      evidence,
    );
  },
});

/** The pass message when the table decides under persistence. */
function byTable(spec: Parameters<typeof ratioText>[0], vouch: TableVouch, source: { es: string; en: string }) {
  const ratio = ratioText(spec, vouch.weights);
  const page = vouch.answered.backend ?? "?";
  return text(
    `ipvsadm -Ln muestra ${vouch.scheduler} con pesos ${ratio} (${source.es}) y persistencia de ${vouch.persistent} s, y la VIP sirve la página de ${page}. Con persistencia cada dirección cliente llega siempre al mismo servidor, así que la proporción la decide la tabla del núcleo.`,
    `ipvsadm -Ln shows ${vouch.scheduler} with weights ${ratio} (${source.en}) and persistence of ${vouch.persistent} s, and the VIP serves ${page}'s page. With persistence each client address always reaches the same server, so the kernel's table decides the ratio.`,
  );
}


/**
 * A failed sample while the kernel's table holds the expected weights (a table that differs
 * fails before any sampling): the traffic and the running configuration disagree, which
 * editing the weights cannot fix. Said so, with where to look.
 */
export function trafficAgainstTable(scheduler: string | undefined, tableRatio: string | undefined): { es: string; en: string } {
  if (scheduler === undefined || tableRatio === undefined) return { es: "", en: "" };
  return {
    es: ` El tráfico no coincide con la configuración: ipvsadm -Ln muestra ${scheduler} con pesos ${tableRatio}.`,
    en: ` The traffic disagrees with the configuration: ipvsadm -Ln shows ${scheduler} with weights ${tableRatio}.`,
  };
}

const disagreementFix = text(
  "Los pesos de la tabla son los esperados pero el tráfico no los sigue: compruebe que la VIP la sirve este director (no otro con la VIP, ni un servidor que la tenga asignada), que no hay otro virtual_server o regla que capture el tráfico, y que ningún real_server falla.",
  "The table's weights are the expected ones but the traffic does not follow them: check that this director serves the VIP (not another one holding it, nor a web server with the VIP assigned), that no other virtual_server or rule captures the traffic, and that no real_server fails.",
);
