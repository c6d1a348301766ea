import { defineCheck, fail, graderError, pass, text } from "../../src/runner/check.js";
import { requestEvidence } from "../../src/runner/evidence.js";
import { probeBalancerReach } from "../../src/runner/reach.js";
import type { Text } from "../../src/model/index.js";

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
    // No answer at all (timeout, unreachable): blame the lab only when the balancer itself answers
    // from here, which proves the route and the machine; otherwise the grader cannot tell a dead
    // lab from its own missing route.
    const reach = await probeBalancerReach(ctx.spec, ctx.signal);
    if ((cls === "connect-timeout" || cls === "unreachable") && reach.answered.length > 0 && !reach.noRouteToVip) {
      const answered = reach.answered.map((a) => `${a.address}:${a.port}`).join(", ");
      const seen = reach.vip.code ?? cls;
      return fail(
        text(
          `La VIP ${vip} no responde (${seen}), pero el balanceador sí (${answered}): la red hasta él funciona y lo que falla es la VIP en el balanceador.`,
          `The VIP ${vip} gives no answer (${seen}), yet the balancer does (${answered}): the network up to it works; the VIP on the balancer does not.`,
        ),
        reach.vip.state === "unreachable" || cls === "unreachable" ? vipMissingFix(ctx.spec.vip.address) : vipSilentFix(vip, ctx.spec.vip.port),
        [...evidence, reach.evidence],
      );
    }
    return graderError(
      text(`No se puede llegar a la VIP ${vip} (${cls}): ${r.error.message}.`, `Cannot reach the VIP ${vip} (${cls}): ${r.error.message}.`),
      text(
        "Compruebe que el laboratorio está encendido y que este equipo tiene ruta hacia la red de servicio.",
        "Check that the lab is up and that this machine has a route to the service network.",
      ),
      [...evidence, reach.evidence],
    );
  },
});

/** Nobody answers for the VIP's address on its network (no ARP reply): nothing holds it. */
function vipMissingFix(address: string): Text {
  return text(
    `Ninguna máquina tiene la dirección ${address}: añádala a la interfaz de servicio del balanceador (ip addr add ${address}/24 dev <interfaz>, o en virtual_ipaddress de keepalived en el MASTER) y compruebe con ip addr que está. Si la VIP del laboratorio es otra, corrija vip.address en el fichero del laboratorio.`,
    `No machine holds the address ${address}: add it to the balancer's service interface (ip addr add ${address}/24 dev <interface>, or keepalived's virtual_ipaddress on the MASTER) and check with ip addr that it is there. If the lab's VIP is another address, correct vip.address in the lab spec.`,
  );
}

/** The VIP's packets vanish: a firewall drops them, or the address is held but nothing handles the port. */
function vipSilentFix(vip: string, port: number): Text {
  return text(
    `Revise el cortafuegos del balanceador (nft list ruleset, iptables -L -n): no debe descartar las conexiones a ${vip}. Compruebe también que la VIP está en la interfaz (ip addr, virtual_ipaddress de keepalived) y que Apache la atiende (Listen ${port}) o keepalived tiene su virtual_server.`,
    `Check the balancer's firewall (nft list ruleset, iptables -L -n): it must not drop connections to ${vip}. Check too that the VIP is on the interface (ip addr, keepalived's virtual_ipaddress) and that Apache serves it (Listen ${port}) or keepalived has its virtual_server.`,
  );
}
