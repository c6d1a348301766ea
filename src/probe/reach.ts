import net from "node:net";
import { performance } from "node:perf_hooks";
import { capText } from "./errors.js";
import { scopeViolation } from "./scope.js";

/**
 * What one TCP connection attempt met. `connected` and `refused` both prove the route and the
 * host (a refusal is the host's own RST); `timeout` and `unreachable` prove nothing answered;
 * `failed` is anything else (an address outside HAGRADE_ALLOWED_NETWORKS, no route at all...).
 */
export type ReachState = "connected" | "refused" | "timeout" | "unreachable" | "failed";

export interface Reach {
  address: string;
  port: number;
  state: ReachState;
  /** Time until the answer (or the deadline). */
  ms: number;
  /** The socket error's code (EHOSTUNREACH, ENETUNREACH, ...) when there was one. */
  code?: string;
  message?: string;
}

const UNREACHABLE = new Set(["EHOSTUNREACH", "EHOSTDOWN", "ENETUNREACH", "ENETDOWN", "ENONET"]);

/**
 * One TCP connection to `address:port`, closed as soon as it is decided: nothing is sent on it.
 * Never throws; the network fence (HAGRADE_ALLOWED_NETWORKS) makes an address outside it `failed`
 * before any packet leaves.
 */
export async function tcpReach(address: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<Reach> {
  const denied = scopeViolation(address);
  if (denied !== null) return { address, port, state: "failed", ms: 0, code: "EHAGRADESCOPE", message: denied };
  const started = performance.now();
  return new Promise<Reach>((resolve) => {
    const socket = new net.Socket();
    const done = (state: ReachState, error?: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      const reach: Reach = { address, port, state, ms: Math.round(performance.now() - started) };
      if (error?.code !== undefined) reach.code = error.code;
      if (error?.message) reach.message = capText(error.message, 300);
      resolve(reach);
    };
    const onAbort = () => done("failed", Object.assign(new Error("aborted"), { code: "ABORT_ERR" }));
    const timer = setTimeout(() => done("timeout"), timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => done("connected"));
    socket.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNREFUSED") done("refused", error);
      else if (error.code === "ETIMEDOUT") done("timeout", error);
      else if (error.code !== undefined && UNREACHABLE.has(error.code)) done("unreachable", error);
      else done("failed", error);
    });
    socket.connect({ host: address, port });
  });
}

/** Whether a reach proves that the host behind the address is there. */
export function reachAnswered(reach: { state: string }): boolean {
  return reach.state === "connected" || reach.state === "refused";
}
