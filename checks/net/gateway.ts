import { defineCheck, ev, fail, inconclusive, pass, remote, text } from "../../src/runner/check.js";
import { defaultRoute, parseIpRoute } from "../../src/inspect/index.js";
import { readMachine } from "../../src/inspect/os.js";

/** Each web server's default gateway is the balancer's internal address. */
export default defineCheck({
  id: "net.gateway",
  part: "net",
  title: text("Los servidores web usan el balanceador como puerta de enlace", "The web servers use the balancer as their gateway"),
  points: 1,
  needs: ["ssh"],
  async run(ctx) {
    const gateway = ctx.spec.balancer.internalAddress;
    const ssh = remote(ctx);
    const seen: { backend: string; gateway: string | null }[] = [];
    for (const b of ctx.spec.backends) {
      const r = await ssh.exec(b.name, "ip -j route show 2>/dev/null || ip route show");
      const table = parseIpRoute(r.stdout);
      if (table.routes.length === 0) {
        return inconclusive(
          text(`No se pudo leer la tabla de rutas de ${b.name}.`, `Could not read ${b.name}'s routing table.`),
          text("Compruebe que el servidor tiene el comando ip (iproute2).", "Check the server has the ip command (iproute2)."),
          [ev.defaultRoutes({ expected: gateway, seen, unreadable: { backend: b.name, output: r.stdout.slice(0, 500) } })],
        );
      }
      seen.push({ backend: b.name, gateway: defaultRoute(table)?.gateway ?? null });
    }
    const evidence = [ev.defaultRoutes({ expected: gateway, seen })];
    const wrong = seen.filter((s) => s.gateway !== gateway);
    if (wrong.length === 0) return pass(text(`Todos salen por ${gateway}.`, `All route through ${gateway}.`), evidence);
    const list = wrong.map((w) => `${w.backend}: ${w.gateway ?? "sin ruta por defecto"}`).join(", ");
    const listEn = wrong.map((w) => `${w.backend}: ${w.gateway ?? "no default route"}`).join(", ");
    // Where the gateway is kept across reboots depends on the web server's distribution.
    const families = new Set<string>();
    for (const w of wrong) families.add((await ctx.memo(`machine:${w.backend}`, () => readMachine((c) => ssh.exec(w.backend, c)))).family);
    const persist = [
      ...(families.has("debian") || families.has("other") ? [{ es: `en Debian, gateway ${gateway} en /etc/network/interfaces`, en: `on Debian, gateway ${gateway} in /etc/network/interfaces` }] : []),
      ...(families.has("rhel")
        ? [{ es: `en CentOS/RHEL, GATEWAY=${gateway} en /etc/sysconfig/network-scripts/ifcfg-<interfaz> (o nmcli connection modify <conexión> ipv4.gateway ${gateway})`, en: `on CentOS/RHEL, GATEWAY=${gateway} in /etc/sysconfig/network-scripts/ifcfg-<interface> (or nmcli connection modify <connection> ipv4.gateway ${gateway})` }]
        : []),
    ];
    return fail(
      text(`Puerta de enlace incorrecta (${list}); debe ser ${gateway}.`, `Wrong default gateway (${listEn}); it must be ${gateway}.`),
      text(
        `En cada servidor web: ip route replace default via ${gateway}; para que dure tras reiniciar, ${persist.map((p) => p.es).join("; ")}.`,
        `On each web server: ip route replace default via ${gateway}; to keep it after a reboot, ${persist.map((p) => p.en).join("; ")}.`,
      ),
      evidence,
    );
  },
});
