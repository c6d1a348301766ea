import { defineCheck, fail, graderError, pass, text } from "../../src/runner/check.js";
import { requestEvidence } from "../../src/runner/evidence.js";

/** The service answers on the VIP: everything else stands on it. */
export default defineCheck({
  id: "net.vip-http",
  part: "net",
  title: text("La VIP responde por HTTP", "The VIP answers HTTP"),
  points: 1,
  needs: ["http"],
  usesVip: true,
  async run(ctx) {
    const vip = `${ctx.spec.vip.address}:${ctx.spec.vip.port}`;
    const r = await ctx.http.get({ retryOnStatus: [502, 503, 504] });
    const evidence = [requestEvidence(`http://${vip}${ctx.spec.vip.path}`, r)];
    if (r.ok && r.status === 200) {
      return pass(
        text(`La VIP ${vip} responde 200 en ${r.latencyMs} ms (${r.label ?? "?"}).`, `The VIP ${vip} answers 200 in ${r.latencyMs} ms (${r.label ?? "?"}).`),
        evidence,
      );
    }
    if (r.ok) {
      return fail(
        text(`La VIP ${vip} responde con el estado HTTP ${r.status}, no 200.`, `The VIP ${vip} answers with HTTP status ${r.status}, not 200.`),
        r.status === 503 || r.status === 502
          ? text(
              "El balanceador no llega a los servidores web: revise que estén arrancados, las BalancerMember (o real_server) y que los módulos proxy_http/proxy_balancer estén activos.",
              "The balancer cannot reach the web servers: check they run, the BalancerMember (or real_server) lines, and that proxy_http/proxy_balancer are enabled.",
            )
          : text("Revise la configuración del servicio en la VIP.", "Check the service configuration on the VIP."),
        evidence,
      );
    }
    const cls = r.error.class;
    if (cls === "connect-refused") {
      return fail(
        text(`Nada escucha en ${vip}: la conexión fue rechazada.`, `Nothing listens on ${vip}: the connection was refused.`),
        text(
          "Asigne la VIP al balanceador y arranque el servicio (keepalived o Apache) escuchando en ella.",
          "Put the VIP on the balancer and start the service (keepalived or Apache) listening on it.",
        ),
        evidence,
      );
    }
    if (cls === "headers-timeout" || cls === "body-timeout" || cls === "reset" || cls === "protocol" || cls === "body-too-large") {
      return fail(
        text(`La VIP ${vip} acepta conexiones pero no da una respuesta HTTP válida (${cls}).`, `The VIP ${vip} accepts connections but gives no valid HTTP answer (${cls}).`),
        text("Revise el servicio del balanceador y que los servidores web respondan.", "Check the balancer's service and that the web servers answer."),
        evidence,
      );
    }
    // No answer at all (timeout, unreachable, bind failure): the grader cannot tell a dead lab
    // from its own missing route, so it does not blame the student.
    return graderError(
      text(`No se puede llegar a la VIP ${vip} (${cls}): ${r.error.message}.`, `Cannot reach the VIP ${vip} (${cls}): ${r.error.message}.`),
      text(
        "Compruebe que el laboratorio está encendido y que este equipo tiene ruta hacia la red de servicio.",
        "Check that the lab is up and that this machine has a route to the service network.",
      ),
      evidence,
    );
  },
});
