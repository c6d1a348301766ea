import { defineCheck, fail, inconclusive, pass, remote, text } from "../../src/runner/check.js";
import { parseIpForward } from "../../src/inspect/index.js";

/** The balancer routes between the service and server networks (Preparación del escenario). */
export default defineCheck({
  id: "net.ip-forward",
  part: "net",
  title: text("IP forwarding activado en el balanceador", "IP forwarding on in the balancer"),
  points: 1,
  needs: ["ssh"],
  async run(ctx) {
    const r = await remote(ctx).exec("balancer", "cat /proc/sys/net/ipv4/ip_forward");
    const fwd = parseIpForward(r.stdout);
    if (fwd.enabled === true) return pass(text("net.ipv4.ip_forward = 1 en el balanceador.", "net.ipv4.ip_forward = 1 on the balancer."));
    if (fwd.enabled === false) {
      return fail(
        text("El balanceador no reenvía paquetes IPv4 (net.ipv4.ip_forward = 0).", "The balancer does not forward IPv4 packets (net.ipv4.ip_forward = 0)."),
        text(
          "Ejecute sysctl -w net.ipv4.ip_forward=1 y añada net.ipv4.ip_forward=1 a /etc/sysctl.conf para que dure tras reiniciar.",
          "Run sysctl -w net.ipv4.ip_forward=1 and add net.ipv4.ip_forward=1 to /etc/sysctl.conf so it survives a reboot.",
        ),
      );
    }
    return inconclusive(
      text("No se pudo leer /proc/sys/net/ipv4/ip_forward en el balanceador.", "Could not read /proc/sys/net/ipv4/ip_forward on the balancer."),
      text("Compruebe que el balanceador es GNU/Linux y que el usuario SSH puede leer /proc.", "Check the balancer runs GNU/Linux and the SSH user can read /proc."),
    );
  },
});
