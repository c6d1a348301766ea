/**
 * The smallest real Part 2 lab, for engine and CLI tests that need no SSH: two real HTTP
 * servers behind a real Apache 2.4 balancer (byrequests 1:1, ROUTEID stickiness), on three
 * loopback addresses 127.0.0.N, N+1, N+2 — each test file takes its own N, so files running
 * side by side never share a server.
 */
import { parseSpecText } from "../../src/config/index.js";
import type { LabSpec } from "../../src/config/schema.js";
import { startApacheBalancer, startWebServer, type ApacheInstance, type WebServer } from "./servers.js";

export interface LoopbackLab {
  apache: ApacheInstance;
  ws1: WebServer;
  ws2: WebServer;
  stop(): Promise<void>;
}

export async function startLoopbackLab(n: number): Promise<LoopbackLab> {
  const ws1 = await startWebServer("1", { address: `127.0.0.${n + 1}` });
  const ws2 = await startWebServer("2", { address: `127.0.0.${n + 2}` });
  const apache = await startApacheBalancer([ws1, ws2], `127.0.0.${n}`).catch(async (error: unknown) => {
    await Promise.all([ws1.close(), ws2.close()]);
    throw error;
  });
  return {
    apache,
    ws1,
    ws2,
    async stop() {
      await apache.stop();
      await Promise.all([ws1.close(), ws2.close()]);
    },
  };
}

/**
 * The fields of a lab spec for a balancer at `vip` over `backends` (no SSH: the checks that need
 * it are skipped). `loadfactors` is what the spec expects of each server, 1 by default.
 */
export function loopbackSpecFields(vip: { address: string; port: number }, backends: readonly WebServer[], loadfactors: readonly number[] = []) {
  return {
    vip: { address: vip.address, port: vip.port },
    balancer: { internalAddress: "127.0.0.1" },
    backends: backends.map((b, i) => ({ name: `webserver${i + 1}`, address: b.address, port: b.port, loadfactor: loadfactors[i] ?? 1 })),
    sampling: { maxRequests: 400, ratePerSecond: 500 },
  };
}

/** That spec, validated as `hagrade run` would; `extra` overrides any top-level field. */
export async function loopbackSpec(
  vip: { address: string; port: number },
  backends: readonly WebServer[],
  extra: Record<string, unknown> = {},
): Promise<LabSpec> {
  const text = JSON.stringify({ lab: "loopback", part: "proxy", ...loopbackSpecFields(vip, backends), ...extra });
  const loaded = await parseSpecText(text, { baseDir: process.cwd(), sourceName: "loopback.json" });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.spec;
}
