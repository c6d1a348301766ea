import type { VipHttp } from "./context.js";
import type { Part, Text } from "./types.js";

export interface Detection {
  part: Part | null;
  reason: Text;
  evidence: Record<string, unknown>;
}

/**
 * Which balancer answers on the VIP, from the traffic alone:
 * Apache byrequests alternates per REQUEST even on one keep-alive connection and may set the
 * sticky cookie; IPVS balances CONNECTIONS, so one keep-alive connection stays on one server
 * while new connections alternate (unless persistence pins the client).
 */
export async function detectPart(http: VipHttp, cookieName: string): Promise<Detection> {
  const keepAlive = await http.sample({ mode: "keep-alive", maxRequests: 6, label: "detect" });
  const perConnection = new Map<number, Set<string>>();
  for (const r of keepAlive.records) {
    if (r.connectionId === null || !r.backend) continue;
    const set = perConnection.get(r.connectionId) ?? new Set<string>();
    set.add(r.backend);
    perConnection.set(r.connectionId, set);
  }
  const cookie = keepAlive.records.some((r) => r.setCookie.some((c) => c.trimStart().startsWith(`${cookieName}=`)));
  const mixedConnection = [...perConnection.values()].some((s) => s.size > 1);
  const evidence = { keepAlive: keepAlive.records.map((r) => r.label), cookie };
  if (mixedConnection || cookie) {
    return {
      part: "proxy",
      reason: {
        es: mixedConnection
          ? "Detectado proxy inverso Apache: una misma conexión keep-alive llega a varios servidores (balanceo por petición)."
          : `Detectado proxy inverso Apache: la respuesta pone la cookie ${cookieName}.`,
        en: mixedConnection
          ? "Detected the Apache reverse proxy: one keep-alive connection reaches several servers (per-request balancing)."
          : `Detected the Apache reverse proxy: the response sets the ${cookieName} cookie.`,
      },
      evidence,
    };
  }
  const fresh = await http.sample({ mode: "new-connection", maxRequests: 6, label: "detect" });
  const backends = new Set(fresh.records.map((r) => r.backend).filter(Boolean));
  if (backends.size > 1 && perConnection.size > 0) {
    return {
      part: "lvs",
      reason: {
        es: "Detectado LVS: cada conexión keep-alive se queda en un servidor y las conexiones nuevas se reparten (balanceo por conexión).",
        en: "Detected LVS: each keep-alive connection stays on one server while new connections are spread (per-connection balancing).",
      },
      evidence: { ...evidence, newConnections: fresh.records.map((r) => r.label) },
    };
  }
  return {
    part: null,
    reason: {
      es: "No se pudo distinguir LVS de Apache por el tráfico (un solo servidor visible).",
      en: "Could not tell LVS from Apache by the traffic (only one server visible).",
    },
    evidence: { ...evidence, newConnections: fresh.records.map((r) => r.label) },
  };
}
