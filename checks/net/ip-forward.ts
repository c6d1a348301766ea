import { defineCheck, ev, fail, inconclusive, pass, remote, text } from "../../src/runner/check.js";
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
    // The file holds one line, 0 or 1: anything else (an error, noise, a cut answer) decides nothing.
    const lines = r.stdout.split("\n").filter((l) => l.trim() !== "");
    const fwd = parseIpForward(r.stdout);
    const value = r.code === 0 && lines.length === 1 && (fwd.value === "0" || fwd.value === "1") ? fwd.value : undefined;
    const evidence = [ev.sysctl({ key: "net.ipv4.ip_forward", value: value ?? null, exitCode: r.code })];
    if (value === "1") return pass(text("net.ipv4.ip_forward = 1 en el balanceador.", "net.ipv4.ip_forward = 1 on the balancer."), evidence);
    if (value === "0") {
      return fail(
        text("El balanceador no reenvía paquetes IPv4 (net.ipv4.ip_forward = 0).", "The balancer does not forward IPv4 packets (net.ipv4.ip_forward = 0)."),
        text(
          "Ejecute sysctl -w net.ipv4.ip_forward=1 y añada net.ipv4.ip_forward=1 a /etc/sysctl.conf para que dure tras reiniciar.",
          "Run sysctl -w net.ipv4.ip_forward=1 and add net.ipv4.ip_forward=1 to /etc/sysctl.conf so it survives a reboot.",
        ),
        evidence,
      );
    }
    return inconclusive(
      text("No se pudo leer /proc/sys/net/ipv4/ip_forward en el balanceador.", "Could not read /proc/sys/net/ipv4/ip_forward on the balancer."),
      text("Compruebe que el balanceador es GNU/Linux y que el usuario SSH puede leer /proc.", "Check the balancer runs GNU/Linux and the SSH user can read /proc."),
      evidence,
    );
  },
});
