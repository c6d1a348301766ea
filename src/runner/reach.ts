/**
 * When the VIP gives no answer at all, whose fault is it? If the balancer itself answers from
 * here (its SSH port, its own service address; connected or refused alike), the route and the
 * machine are fine and the VIP is the lab's fault. If nothing of it answers, or the grader has no
 * route to the VIP's network at all, the grader cannot tell a dead lab from its own missing route.
 */
import { isIPv4 } from "node:net";
import type { LabSpec } from "../config/schema.js";
import { resolveSshTargets } from "../config/targets.js";
import { ev, type ReachProbeSeen, type TcpReachEvidence } from "../model/index.js";
import { reachAnswered, tcpReach, type Reach } from "../probe/index.js";

/**
 * Long enough for the kernel to give up resolving the VIP's address on its network: Linux sends 3
 * ARP requests 1 s apart, then fails the connection with EHOSTUNREACH. A shorter wait cannot tell
 * "nothing holds the VIP" from "its packets are dropped".
 */
const NEIGHBOUR_RESOLUTION_MS = 4000;

/** No route from here to the VIP's network: the grader's place, whatever the lab does. */
const NO_ROUTE_CODES = new Set(["ENETUNREACH", "ENETDOWN"]);

export interface BalancerReach {
  evidence: TcpReachEvidence;
  /** The VIP probe itself. */
  vip: ReachProbeSeen;
  /** Addresses of the balancer that answered a TCP connection (the VIP too, if it answered this time): the route and the machine work. */
  answered: ReachProbeSeen[];
  /** The grader has no route to the VIP at all (ENETUNREACH): no lab can be blamed for that. */
  noRouteToVip: boolean;
}

/** Where the balancer may answer from here besides the VIP: its SSH, its service address, the backup's. */
export function balancerAddresses(spec: LabSpec): { role: string; address: string; port: number }[] {
  const candidates: { role: string; address: string; port: number }[] = [];
  const ssh = balancerSshTarget(spec);
  if (ssh) candidates.push({ role: "balancer-ssh", ...ssh });
  if (spec.balancer.serviceAddress) candidates.push({ role: "balancer-service", address: spec.balancer.serviceAddress, port: spec.vip.port });
  if (spec.balancer.backup) candidates.push({ role: "backup-service", address: spec.balancer.backup.serviceAddress, port: spec.vip.port });
  const seen = new Set([`${spec.vip.address}:${spec.vip.port}`]);
  return candidates.filter((c) => {
    const key = `${c.address}:${c.port}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The balancer's SSH address and port as the SSH layer resolves them (ssh_config aliases too), when an IPv4 address. */
function balancerSshTarget(spec: LabSpec): { address: string; port: number } | undefined {
  if (spec.balancer.ssh === undefined) return undefined;
  try {
    const target = resolveSshTargets(spec).find((t) => t.name === "balancer");
    if (target && !target.local && isIPv4(target.host)) return { address: target.host, port: target.port };
  } catch {
    // An unreadable ssh_config: the spec's own fields still say where the balancer is.
  }
  const host = spec.balancer.ssh.host;
  return host !== undefined && isIPv4(host) ? { address: host, port: spec.balancer.ssh.port ?? spec.ssh.port ?? 22 } : undefined;
}

/** Probes the VIP and the balancer's other addresses side by side, one TCP connection each. */
export async function probeBalancerReach(spec: LabSpec, signal?: AbortSignal): Promise<BalancerReach> {
  const targets = [{ role: "vip", address: spec.vip.address, port: spec.vip.port }, ...balancerAddresses(spec)];
  const reaches = await Promise.all(
    targets.map((t, i) => tcpReach(t.address, t.port, i === 0 ? Math.max(spec.timeouts.connect, NEIGHBOUR_RESOLUTION_MS) : spec.timeouts.connect, signal)),
  );
  const probes = reaches.map((r, i) => seen(targets[i]!.role, r));
  const vip = probes[0]!;
  return {
    evidence: ev.tcpReach({ probes }),
    vip,
    answered: probes.filter(reachAnswered),
    noRouteToVip: vip.code !== undefined && NO_ROUTE_CODES.has(vip.code),
  };
}

function seen(role: string, r: Reach): ReachProbeSeen {
  return { role, address: r.address, port: r.port, state: r.state, ms: r.ms, ...(r.code !== undefined ? { code: r.code } : {}) };
}
