import { defineCheck, ev, fail, inconclusive, pass, remote, text } from "../../src/runner/check.js";
import { natCovers, parseFirewall } from "../../src/inspect/index.js";
import { listenForArrivals, type Listener } from "../../src/probe/index.js";
import { readMachine } from "../../src/inspect/os.js";
import { shQuote } from "../../src/ssh/index.js";
import type { Evidence } from "../../src/model/index.js";

const ARRIVAL_TIMEOUT_MS = 6000;

/**
 * The server network is masqueraded by the balancer: the rules say so, and a web server really
 * reaches the service side. Reaching the balancer's own addresses would prove nothing
 * (LAB-FACTS): the connection goes to the grader's own address, and where it arrives from
 * tells NAT (the balancer's address) from plain routing (the web server's private address).
 */
export default defineCheck({
  id: "net.nat",
  part: "net",
  title: text("NAT de la red de servidores en el balanceador", "NAT of the server network on the balancer"),
  points: 1,
  needs: ["ssh"],
  async run(ctx) {
    const ssh = remote(ctx);
    const evidence: Evidence[] = [];

    // 1. The rules.
    const rules = await ssh.exec("balancer", "nft -j list ruleset 2>/dev/null; echo '@@hagrade@@'; iptables-save -t nat 2>/dev/null", { sudo: true });
    const [nftOut = "", iptOut = ""] = rules.stdout.split("@@hagrade@@");
    const rulesets = [parseFirewall(nftOut), parseFirewall(iptOut)];
    const natRules = rulesets.flatMap((r) => r.natRules);
    const uncovered = ctx.spec.backends.filter((b) => !natCovers(natRules, `${b.address}/32`).covered);
    evidence.push(ev.natRules({ rules: natRules.map((r) => r.text), uncovered: uncovered.map((b) => b.name) }));

    // 2. The traffic: where does a web server's connection to the service side come from?
    const seenBy = await ssh.exec("balancer", "echo $SSH_CONNECTION");
    const [graderAddress, , balancerAddress] = seenBy.stdout.trim().split(/\s+/);
    const target = ctx.spec.grader.natTarget;
    const listenAddress = target.address ?? graderAddress;
    const natAddresses = new Set([balancerAddress, ctx.spec.balancer.serviceAddress, ctx.spec.vip.address].filter(Boolean));
    let listener: Listener | undefined;
    if (!target.port && listenAddress) {
      listener = await listenForArrivals(listenAddress).catch(() => undefined);
    }
    const port = target.port ?? listener?.port;
    if (!listenAddress || !port) {
      await listener?.close();
      return inconclusive(
        text("No se pudo abrir un puerto de prueba en la dirección de este equipo vista por el balanceador.", "Could not open a test port on this machine's address as the balancer sees it."),
        text("Indique en grader.natTarget una dirección y puerto de la red de servicio a los que puedan conectar los servidores web.", "Set grader.natTarget to an address and port on the service network the web servers can connect to."),
        evidence,
      );
    }
    const reached: { backend: string; from: string | null; natted: boolean | null }[] = [];
    try {
      for (const b of ctx.spec.backends) {
        const marker = `hagrade-nat-${b.name}`;
        // bash's /dev/tcp where there is bash, else curl; a dropped SYN ends at the 4 s bound.
        const probe =
          `if command -v bash >/dev/null 2>&1; then timeout 4 bash -c ${shQuote(`echo ${marker} > /dev/tcp/${listenAddress}/${port}`)} 2>/dev/null; ` +
          `else curl -s -m 4 -o /dev/null ${shQuote(`http://${listenAddress}:${port}/${marker}`)}; fi`;
        const r = await ssh.exec(b.name, probe, { timeoutMs: 12_000 });
        if (!listener) {
          reached.push({ backend: b.name, from: null, natted: r.code === 0 ? null : false });
          continue;
        }
        const arrival = await waitForMarker(listener, marker, ARRIVAL_TIMEOUT_MS);
        reached.push({ backend: b.name, from: arrival?.remoteAddress ?? null, natted: arrival ? natAddresses.has(arrival.remoteAddress) : false });
      }
    } finally {
      await listener?.close();
    }
    evidence.push(ev.natReach({ target: `${listenAddress}:${port}`, expectedFrom: [...natAddresses].filter((a): a is string => a !== undefined), reached }));

    const unreachable = reached.filter((r) => r.natted === false && r.from === null);
    const notNatted = reached.filter((r) => r.natted === false && r.from !== null);
    if (unreachable.length) {
      const names = unreachable.map((r) => r.backend).join(", ");
      return fail(
        text(`${names} no llega a la red de servicio (${listenAddress}).`, `${names} cannot reach the service network (${listenAddress}).`),
        text(
          `Revise ip_forward en el balanceador, la puerta de enlace de ${names} (${ctx.spec.balancer.internalAddress}) y la regla de NAT: nft add rule ip nat postrouting ip saddr <red de servidores> masquerade.`,
          `Check ip_forward on the balancer, ${names}'s gateway (${ctx.spec.balancer.internalAddress}) and the NAT rule: nft add rule ip nat postrouting ip saddr <server network> masquerade.`,
        ),
        evidence,
      );
    }
    if (notNatted.length) {
      const list = notNatted.map((r) => `${r.backend} → ${r.from}`).join(", ");
      // With firewalld running (CentOS's default), rules added by hand are lost on its next reload.
      const machine = await ctx.memo("machine:balancer", () => readMachine((c) => ssh.exec("balancer", c)));
      const firewalld = machine.firewalldRunning
        ? {
            es: " Con firewalld activo: firewall-cmd --permanent --zone=external --add-masquerade && firewall-cmd --reload (con la interfaz de servicio en la zona external), o deténgalo como pide el enunciado.",
            en: " With firewalld running: firewall-cmd --permanent --zone=external --add-masquerade && firewall-cmd --reload (with the service interface in zone external), or stop it as the lab text says.",
          }
        : { es: "", en: "" };
      return fail(
        text(`Las conexiones salen sin enmascarar (${list}): falta el NAT en el balanceador.`, `Connections leave without masquerading (${list}): the balancer does no NAT.`),
        text(
          `En el balanceador: nft add table ip nat; nft add chain ip nat postrouting '{ type nat hook postrouting priority 100; }'; nft add rule ip nat postrouting ip saddr <red de servidores> masquerade (o iptables -t nat -A POSTROUTING -s <red> -j MASQUERADE).${firewalld.es}`,
          `On the balancer: nft add table ip nat; nft add chain ip nat postrouting '{ type nat hook postrouting priority 100; }'; nft add rule ip nat postrouting ip saddr <server network> masquerade (or iptables -t nat -A POSTROUTING -s <net> -j MASQUERADE).${firewalld.en}`,
        ),
        evidence,
      );
    }
    const via = reached.map((r) => `${r.backend} → ${r.from ?? "ok"}`).join(", ");
    const rulesNote = uncovered.length
      ? { es: " (no se reconoce la regla en nft/iptables, pero el tráfico sale enmascarado)", en: " (the rule was not recognised in nft/iptables, but the traffic leaves masqueraded)" }
      : { es: "", en: "" };
    return pass(text(`Los servidores salen enmascarados por el balanceador (${via})${rulesNote.es}.`, `The servers leave masqueraded by the balancer (${via})${rulesNote.en}.`), evidence);
  },
});

async function waitForMarker(listener: Listener, marker: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = listener.arrivals.find((a) => a.firstBytes.includes(marker));
    if (hit || Date.now() > deadline) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
}
