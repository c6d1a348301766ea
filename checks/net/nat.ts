import { defineCheck, ev, fail, inconclusive, pass, remote, text } from "../../src/runner/check.js";
import { listenForArrivals, type Listener } from "../../src/probe/index.js";
import { readMachine } from "../../src/inspect/os.js";
import { shQuote } from "../../src/ssh/index.js";
import { localIpv4Addresses } from "../../src/config/targets.js";
import type { Evidence, Text } from "../../src/model/index.js";
import {
  BALANCER_FACTS_COMMAND,
  NAT_RULES_COMMAND,
  balancerAddressSet,
  bypassingBalancer,
  chooseTarget,
  masqueradeSources,
  natCandidates,
  parseBalancerFacts,
  parseRouteProbe,
  readNatRules,
  routeProbeCommand,
  serviceInterface,
  type NatRulesReading,
  type RouteTo,
} from "../../src/runner/nat.js";

const ARRIVAL_TIMEOUT_MS = 6000;

const NAT_FIX = text(
  "En el balanceador: nft add table ip nat; nft add chain ip nat postrouting '{ type nat hook postrouting priority 100; }'; nft add rule ip nat postrouting ip saddr <red de servidores> oifname <interfaz de servicio> masquerade (o iptables -t nat -A POSTROUTING -s <red> -o <interfaz> -j MASQUERADE).",
  "On the balancer: nft add table ip nat; nft add chain ip nat postrouting '{ type nat hook postrouting priority 100; }'; nft add rule ip nat postrouting ip saddr <server network> oifname <service interface> masquerade (or iptables -t nat -A POSTROUTING -s <net> -o <interface> -j MASQUERADE).",
);

/**
 * The server network is masqueraded by the balancer. Where hagrade has an address outside the
 * balancer that a web server reaches through it, a web server connects there and where the
 * connection arrives from tells NAT (the balancer's address) from plain routing (the web server's
 * own). Where it has none (on the balancer, behind an address translator), the rules decide, and
 * the verdict says why no traffic could (src/runner/nat.ts).
 */
export default defineCheck({
  id: "net.nat",
  part: "net",
  title: text("NAT de la red de servidores en el balanceador", "NAT of the server network on the balancer"),
  points: 1,
  needs: ["ssh"],
  async run(ctx) {
    const ssh = remote(ctx);
    const { spec } = ctx;

    // The balancer's addresses and forwarding, read as the login: sudo would empty $SSH_CONNECTION.
    const facts = parseBalancerFacts((await ssh.exec("balancer", BALANCER_FACTS_COMMAND, { asLogin: true })).stdout);
    const rules = readNatRules((await ssh.exec("balancer", NAT_RULES_COMMAND, { sudo: true })).stdout, spec, serviceInterface(spec, facts));
    const evidence: Evidence[] = [
      ev.natRules({
        rules: rules.rules.map((r) => r.text),
        uncovered: rules.uncovered,
        readable: rules.readable,
        ipForward: facts.ipForward ?? null,
        ...(rules.outInterface !== undefined ? { outInterface: rules.outInterface } : {}),
      }),
    ];
    const balancer = balancerAddressSet(spec, facts);
    const names = spec.backends.map((b) => b.name);

    // Where can a web server's connection go that only the balancer's NAT would rewrite?
    const found = natCandidates({ spec, facts, balancerIsThisMachine: ssh.host("balancer").target.local === true });
    const backendRoutes = new Map<string, Map<string, RouteTo>>();
    const routesTo = async (addresses: string[]) => {
      for (const name of names) {
        backendRoutes.set(name, parseRouteProbe((await ssh.exec(name, routeProbeCommand(addresses))).stdout, addresses));
      }
    };
    if ("none" in found) {
      // The web servers' way to the service side still says whether their traffic crosses the balancer.
      const serviceSide = [spec.balancer.serviceAddress, spec.vip.forwardsTo?.address, spec.vip.address].find((a) => a !== undefined && !a.startsWith("127."));
      if (serviceSide !== undefined) await routesTo([serviceSide]);
      return judgeByRules(found.none.place, found.none.reason, { rules, ipForward: facts.ipForward, serviceSide, balancer, internal: spec.balancer.internalAddress, backendRoutes, natPort: spec.grader.natTarget.port, arrived: false }, evidence);
    }
    await routesTo(found.candidates);
    const balancerRoutes = parseRouteProbe((await ssh.exec("balancer", routeProbeCommand(found.candidates), { asLogin: true })).stdout, found.candidates);
    const target = chooseTarget(found.candidates, found.firstTrusted, balancerRoutes, backendRoutes);
    if (target === undefined) {
      const reason = text(
        `ninguna dirección de este equipo (${found.candidates.join(", ")}) sirve: o un servidor web llega a ella directamente, sin pasar por el balanceador, o el balanceador no la tiene en una red propia`,
        `no address of this machine (${found.candidates.join(", ")}) will do: either a web server reaches it directly, without crossing the balancer, or the balancer has it on no network of its own`,
      );
      return judgeByRules("server-network", reason, { rules, ipForward: facts.ipForward, serviceSide: found.candidates[0], balancer, internal: spec.balancer.internalAddress, backendRoutes, natPort: spec.grader.natTarget.port, arrived: false }, evidence);
    }

    // The traffic test.
    const isLocal = localIpv4Addresses().includes(target);
    const wantedPort = spec.grader.natTarget.port;
    if (!isLocal && wantedPort === undefined) {
      return inconclusive(
        text(
          `grader.natTarget.address (${target}) no es una dirección de este equipo: hagrade solo ve la llegada si algo reenvía ${target}:<puerto> hasta aquí.`,
          `grader.natTarget.address (${target}) is not an address of this machine: hagrade only sees the arrival if something forwards ${target}:<port> to here.`,
        ),
        text("Indique en grader.natTarget.port el puerto que ese reenvío trae a este equipo.", "Set grader.natTarget.port to the port that forwarding brings to this machine."),
        evidence,
      );
    }
    const listenAddress = isLocal ? target : "0.0.0.0";
    let listener: Listener;
    try {
      listener = await listenForArrivals(listenAddress, wantedPort ?? 0);
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      return inconclusive(
        text(`No se pudo escuchar en ${listenAddress}:${wantedPort ?? "(cualquier puerto)"} (${why}): sin escucha no se ve llegar nada.`, `Could not listen on ${listenAddress}:${wantedPort ?? "(any port)"} (${why}): without a listener no arrival can be seen.`),
        text("Libere ese puerto o indique otro en grader.natTarget.port.", "Free that port or set another in grader.natTarget.port."),
        evidence,
      );
    }
    const natSources = masqueradeSources(balancer);
    const reached: { backend: string; from: string | null; natted: boolean | null }[] = [];
    try {
      for (const b of spec.backends) {
        const marker = `hagrade-nat-${b.name}`;
        // bash's /dev/tcp where there is bash, else curl; a dropped SYN ends at the 4 s bound.
        const probe =
          `if command -v bash >/dev/null 2>&1; then timeout 4 bash -c ${shQuote(`echo ${marker} > /dev/tcp/${target}/${listener.port}`)} 2>/dev/null; ` +
          `else curl -s -m 4 -o /dev/null ${shQuote(`http://${target}:${listener.port}/${marker}`)}; fi`;
        await ssh.exec(b.name, probe, { timeoutMs: 12_000 });
        const arrival = await waitForMarker(listener, marker, ARRIVAL_TIMEOUT_MS);
        const from = arrival?.remoteAddress ?? null;
        // Neither the balancer nor the web server: something between rewrote the source.
        reached.push({ backend: b.name, from, natted: from === null ? false : natSources.has(from) ? true : from === b.address ? false : null });
      }
    } finally {
      await listener.close();
    }
    evidence.push(ev.natReach({ target: `${target}:${listener.port}`, expectedFrom: [...natSources], reached, place: "outside" }));

    const bypass = bypassingBalancer(target, balancer, backendRoutes);
    if (bypass.length) return gatewayFail(bypass, spec.balancer.internalAddress, evidence);
    const unreachable = reached.filter((r) => r.from === null).map((r) => r.backend);
    if (unreachable.length) {
      const list = unreachable.join(", ");
      const cause =
        facts.ipForward === false
          ? text(" El balanceador no reenvía paquetes (net.ipv4.ip_forward = 0).", " The balancer does not forward packets (net.ipv4.ip_forward = 0).")
          : rules.readable && unreachable.every((name) => rules.uncovered.includes(name))
            ? text(" Ninguna regla de NAT del balanceador cubre su dirección: sin NAT, la respuesta no sabe volver.", " No NAT rule of the balancer covers its address: without NAT, the reply cannot find its way back.")
            : text("", "");
      return fail(
        text(`${list} no llega a la red de servicio (${target}).${cause.es}`, `${list} cannot reach the service network (${target}).${cause.en}`),
        text(
          `Revise ip_forward en el balanceador (sysctl -w net.ipv4.ip_forward=1), la puerta de enlace de ${list} (${spec.balancer.internalAddress}) y la regla de NAT. ${NAT_FIX.es}`,
          `Check ip_forward on the balancer (sysctl -w net.ipv4.ip_forward=1), ${list}'s gateway (${spec.balancer.internalAddress}) and the NAT rule. ${NAT_FIX.en}`,
        ),
        evidence,
      );
    }
    const routed = reached.filter((r) => r.natted === false);
    if (routed.length) {
      const list = routed.map((r) => `${r.backend} → ${r.from}`).join(", ");
      // With firewalld running (CentOS's default), rules added by hand are lost on its next reload.
      const machine = await ctx.memo("machine:balancer", () => readMachine((c) => ssh.exec("balancer", c)));
      const firewalld = machine.firewalldRunning
        ? text(
            " Con firewalld activo: firewall-cmd --permanent --zone=external --add-masquerade && firewall-cmd --reload (con la interfaz de servicio en la zona external), o deténgalo como pide el enunciado.",
            " With firewalld running: firewall-cmd --permanent --zone=external --add-masquerade && firewall-cmd --reload (with the service interface in zone external), or stop it as the lab text says.",
          )
        : text("", "");
      return fail(
        text(`Las conexiones cruzan el balanceador sin enmascarar (${list}): falta el NAT en el balanceador.`, `Connections cross the balancer without masquerading (${list}): the balancer does no NAT.`),
        text(`${NAT_FIX.es}${firewalld.es}`, `${NAT_FIX.en}${firewalld.en}`),
        evidence,
      );
    }
    const rewritten = reached.filter((r) => r.natted === null);
    if (rewritten.length) {
      const list = rewritten.map((r) => `${r.backend} → ${r.from ?? ""}`).join(", ");
      return judgeByRules(
        "translated",
        text(
          `las conexiones llegaron desde ${list}, que no es ni el balanceador ni el propio servidor web: un traductor de direcciones entre el balanceador y este equipo reescribió el origen`,
          `the connections arrived from ${list}, neither the balancer nor the web server itself: an address translator between the balancer and this machine rewrote the source`,
        ),
        { rules, ipForward: facts.ipForward, serviceSide: undefined, balancer, internal: spec.balancer.internalAddress, backendRoutes, natPort: spec.grader.natTarget.port, arrived: true },
        evidence,
      );
    }
    const via = reached.map((r) => `${r.backend} → ${r.from ?? ""}`).join(", ");
    const rulesNote = rules.readable && rules.uncovered.length
      ? text(" (no se reconoce la regla en nft/iptables, pero el tráfico sale enmascarado)", " (the rule was not recognised in nft/iptables, but the traffic leaves masqueraded)")
      : text("", "");
    return pass(text(`Los servidores salen enmascarados por el balanceador (${via})${rulesNote.es}.`, `The servers leave masqueraded by the balancer (${via})${rulesNote.en}.`), evidence);
  },
});

/**
 * No traffic can tell NAT from routing from here: the rules, forwarding and the web servers'
 * routes decide, and the verdict says why no traffic test ran.
 */
function judgeByRules(
  place: "on-balancer" | "translated" | "server-network",
  reason: Text,
  seen: {
    rules: NatRulesReading;
    ipForward: boolean | undefined;
    /** An address of the service side, to see whether the web servers' way there crosses the balancer. */
    serviceSide: string | undefined;
    balancer: Set<string>;
    internal: string;
    backendRoutes: Map<string, Map<string, RouteTo>>;
    /** grader.natTarget.port: set, the rules alone never pass (spec: that port is where hagrade listens). */
    natPort: number | undefined;
    /** Every web server's connection arrived here (through a translator that hid its source). */
    arrived: boolean;
  },
  evidence: Evidence[],
) {
  const { rules, ipForward, serviceSide, balancer, internal, backendRoutes, natPort, arrived } = seen;
  if (!evidence.some((e) => e.kind === "nat-reach")) evidence.push(ev.natReach({ target: "", expectedFrom: [...balancer], reached: [], place, reason }));
  const impossible = text(`Desde aquí ninguna prueba de tráfico distingue NAT de enrutado: ${reason.es}.`, `From here no traffic test can tell NAT from routing: ${reason.en}.`);
  if (!rules.readable) {
    return inconclusive(
      text(`${impossible.es} Y no se pudieron leer las reglas de NAT (ni nft ni iptables-save respondieron).`, `${impossible.en} And the NAT rules could not be read (neither nft nor iptables-save answered).`),
      text(
        "Dé permiso para leer las reglas (root o sudo sin contraseña para nft/iptables-save), o ejecute hagrade en un equipo de la red de servicio distinto del balanceador.",
        "Allow reading the rules (root, or sudo without a password for nft/iptables-save), or run hagrade on a machine of the service network other than the balancer.",
      ),
      evidence,
    );
  }
  const bypass = serviceSide !== undefined ? bypassingBalancer(serviceSide, balancer, backendRoutes) : [];
  if (bypass.length) return gatewayFail(bypass, internal, evidence, impossible);
  if (ipForward === false) {
    return fail(
      text(`El balanceador no reenvía paquetes (net.ipv4.ip_forward = 0): el tráfico de los servidores web no puede salir enmascarado. ${impossible.es}`, `The balancer does not forward packets (net.ipv4.ip_forward = 0): the web servers' traffic cannot leave masqueraded. ${impossible.en}`),
      text("En el balanceador: sysctl -w net.ipv4.ip_forward=1 (y net.ipv4.ip_forward = 1 en /etc/sysctl.conf).", "On the balancer: sysctl -w net.ipv4.ip_forward=1 (and net.ipv4.ip_forward = 1 in /etc/sysctl.conf)."),
      evidence,
    );
  }
  const out = rules.outInterface !== undefined ? text(` al salir por ${rules.outInterface}`, ` leaving by ${rules.outInterface}`) : text("", "");
  if (rules.uncovered.length) {
    const list = rules.uncovered.join(", ");
    return fail(
      text(`Ninguna regla de NAT (masquerade/SNAT) del balanceador cubre ${list}${out.es}. ${impossible.es}`, `No NAT rule (masquerade/SNAT) of the balancer covers ${list}${out.en}. ${impossible.en}`),
      NAT_FIX,
      evidence,
    );
  }
  const by = rules.rules.map((r) => r.text);
  if (natPort !== undefined && !arrived) {
    return inconclusive(
      text(
        `La regla de NAT del balanceador cubre a todos los servidores web${out.es} (${by.join("; ")}), pero grader.natTarget.port (${natPort}) pide ver llegar el tráfico y no llegó nada: ${reason.es}.`,
        `The balancer's NAT rule covers every web server${out.en} (${by.join("; ")}), but grader.natTarget.port (${natPort}) asks to see the traffic arrive and nothing could: ${reason.en}.`,
      ),
      text(
        "Indique en grader.natTarget.address una dirección fuera del balanceador que los servidores web alcancen a través de él y que reenvíe ese puerto a este equipo, o quite grader.natTarget para que decidan las reglas.",
        "Set grader.natTarget.address to an address outside the balancer that the web servers reach through it and that forwards that port to this machine, or remove grader.natTarget to let the rules decide.",
      ),
      evidence,
    );
  }
  return pass(
    text(
      `La regla de NAT del balanceador cubre a todos los servidores web${out.es} (${by.join("; ")}). ${impossible.es}`,
      `The balancer's NAT rule covers every web server${out.en} (${by.join("; ")}). ${impossible.en}`,
    ),
    evidence,
  );
}

function gatewayFail(bypass: { backend: string; gateway: string }[], internal: string, evidence: Evidence[], note: Text = text("", "")) {
  const list = bypass.map((b) => `${b.backend} → ${b.gateway}`).join(", ");
  const names = bypass.map((b) => b.backend).join(", ");
  return fail(
    text(
      `El tráfico de ${names} no pasa por el balanceador (${list}), así que su NAT no puede enmascararlo; el fallo está en la puerta de enlace, no en el NAT.${note.es ? ` ${note.es}` : ""}`,
      `The traffic of ${names} does not cross the balancer (${list}), so its NAT cannot masquerade it; the fault is the gateway, not the NAT.${note.en ? ` ${note.en}` : ""}`,
    ),
    text(
      `En ${names}: ip route replace default via ${internal} (y en su configuración de red, véase net.gateway).`,
      `On ${names}: ip route replace default via ${internal} (and in its network configuration, see net.gateway).`,
    ),
    evidence,
  );
}

async function waitForMarker(listener: Listener, marker: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = listener.arrivals.find((a) => a.firstBytes.includes(marker));
    if (hit || Date.now() > deadline) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
}
