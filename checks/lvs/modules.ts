import { defineCheck, ev, fail, inconclusive, pass, remote, text } from "../../src/runner/check.js";

const REQUIRED = ["ip_vs", "ip_vs_rr", "ip_vs_wrr"] as const;

/**
 * Part 1, step 1: the IPVS modules and the two schedulers the lab uses. Read from /proc/modules
 * and never from ipvsadm first: running ipvsadm loads ip_vs by itself and would hide a
 * missing modprobe. keepalived loads ip_vs but not the schedulers' modules until it needs them.
 */
export default defineCheck({
  id: "lvs.modules",
  part: "lvs",
  title: text("Módulos ip_vs cargados en el balanceador", "ip_vs modules loaded on the balancer"),
  points: 1,
  needs: ["ssh"],
  async run(ctx) {
    const r = await remote(ctx).exec("balancer", "cat /proc/modules");
    const loaded = new Set(
      r.stdout
        .split("\n")
        .map((line) => line.trim().split(/\s+/)[0] ?? "")
        .filter((name) => name !== ""),
    );
    const present = REQUIRED.filter((m) => loaded.has(m));
    const evidence = [ev.kernelModules({ required: [...REQUIRED], loaded: present })];
    if (loaded.size === 0) {
      return inconclusive(
        text("/proc/modules está vacío o no se pudo leer en el balanceador.", "/proc/modules is empty or unreadable on the balancer."),
        text("Compruebe que el balanceador es una máquina Linux con módulos (no un contenedor sin /proc/modules).", "Check the balancer is a Linux machine with modules (not a container without /proc/modules)."),
        evidence,
      );
    }
    const missing = REQUIRED.filter((m) => !loaded.has(m));
    if (missing.length === 0) return pass(text(`Cargados: ${REQUIRED.join(", ")}.`, `Loaded: ${REQUIRED.join(", ")}.`), evidence);
    return fail(
      text(
        `Faltan módulos del kernel en el balanceador: ${missing.join(", ")} (cargados: ${present.join(", ") || "ninguno"}).`,
        `Kernel modules missing on the balancer: ${missing.join(", ")} (loaded: ${present.join(", ") || "none"}).`,
      ),
      text(
        `modprobe ip_vs_rr ip_vs_wrr (carga también ip_vs); para que sobreviva al reinicio, añada ip_vs, ip_vs_rr e ip_vs_wrr a /etc/modules.`,
        `modprobe ip_vs_rr ip_vs_wrr (it loads ip_vs too); to keep them after a reboot, add ip_vs, ip_vs_rr and ip_vs_wrr to /etc/modules.`,
      ),
      evidence,
    );
  },
});
