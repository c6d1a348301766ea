import { defineCheck, fail, inconclusive, pass, text } from "../../src/runner/check.js";
import { findProcesses } from "../../src/inspect/index.js";
import { processesEvidence, readProcesses } from "../processes.js";

/**
 * Part 2, step 1: keepalived is stopped so that it does not interfere with the reverse proxy.
 * It passes on a whole process list that lacks keepalived, never on a `ps` that could not run.
 */
export default defineCheck({
  id: "proxy.keepalived-stopped",
  part: "proxy",
  title: text("keepalived detenido en el balanceador", "keepalived stopped on the balancer"),
  points: 1,
  needs: ["ssh"],
  async run(ctx) {
    const listing = await readProcesses(ctx, "balancer");
    if (!listing.ok) {
      return inconclusive(
        text(`No se pudo saber si keepalived se ejecuta en el balanceador: ${listing.why.es}.`, `Could not tell whether keepalived runs on the balancer: ${listing.why.en}.`),
        text(
          "Compruebe que el balanceador tiene ps (paquete procps) y que el usuario SSH puede ejecutarlo.",
          "Check the balancer has ps (the procps package) and the SSH user may run it.",
        ),
        [processesEvidence(listing, "keepalived")],
      );
    }
    const running = findProcesses(listing.processes, "keepalived");
    const evidence = [processesEvidence(listing, "keepalived")];
    if (running.length === 0) {
      return pass(
        text(`keepalived no se está ejecutando (ps lista ${listing.processes.length} procesos, ninguno keepalived).`, `keepalived is not running (ps lists ${listing.processes.length} processes, none of them keepalived).`),
        evidence,
      );
    }
    return fail(
      text(`keepalived sigue en ejecución (PID ${running.map((p) => p.pid).join(", ")}).`, `keepalived is still running (PID ${running.map((p) => p.pid).join(", ")}).`),
      text(
        "Deténgalo: service keepalived stop (o systemctl stop keepalived; systemctl disable keepalived para que no arranque con el sistema).",
        "Stop it: service keepalived stop (or systemctl stop keepalived; systemctl disable keepalived so it does not start at boot).",
      ),
      evidence,
    );
  },
});
