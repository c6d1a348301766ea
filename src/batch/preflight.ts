import { Socket } from "node:net";
import type { LabSpec } from "../config/schema.js";
import type { Text } from "../model/index.js";
import { scopeViolation } from "../probe/scope.js";

export type Preflight = { ok: true; note?: Text } | { ok: false; reason: Text };

/**
 * One TCP connection to the VIP before the long checks. A refused connection means the host is
 * there and the service is not: that is the student's lab to grade (it fails fast). Silence or no
 * route means there is nothing to grade from here (a VM switched off, a wrong address, packets
 * dropped): the lab is marked unreachable in seconds instead of timing out check after check.
 */
export async function preflight(spec: LabSpec, signal?: AbortSignal): Promise<Preflight> {
  const { address, port } = spec.vip;
  const fenced = scopeViolation(address);
  if (fenced) return { ok: false, reason: { es: `No se prueba la VIP: ${fenced}.`, en: `The VIP is not probed: ${fenced}.` } };
  const timeoutMs = spec.timeouts.connect;
  const outcome = await new Promise<"open" | "refused" | "timeout" | string>((resolve) => {
    const socket = new Socket();
    const done = (what: string) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      resolve(what);
    };
    const onAbort = () => done("aborted");
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => done("open"));
    socket.once("error", (error: NodeJS.ErrnoException) => done(error.code === "ECONNREFUSED" ? "refused" : (error.code ?? "error")));
    socket.connect({ host: address, port });
  });
  const vip = `${address}:${port}`;
  switch (outcome) {
    case "open":
      return { ok: true };
    case "refused":
      return { ok: true, note: { es: `La VIP ${vip} rechaza la conexión: se evalúa (fallará rápido).`, en: `The VIP ${vip} refuses the connection: graded (it fails fast).` } };
    case "timeout":
      return {
        ok: false,
        reason: {
          es: `La VIP ${vip} no contestó a una conexión TCP en ${timeoutMs / 1000} s (¿máquina apagada, dirección equivocada o paquetes descartados?).`,
          en: `The VIP ${vip} did not answer a TCP connection within ${timeoutMs / 1000} s (machine off, wrong address, or packets dropped?).`,
        },
      };
    default:
      return {
        ok: false,
        reason: { es: `No hay camino hasta la VIP ${vip} (${outcome}).`, en: `No way to reach the VIP ${vip} (${outcome}).` },
      };
  }
}
