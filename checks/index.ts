import type { Check } from "../src/runner/check.js";
import type { Rubric } from "../src/runner/grade.js";
import vipHttp from "./net/vip-http.js";
import twoBackends from "./net/two-backends.js";
import ipForward from "./net/ip-forward.js";
import nat from "./net/nat.js";
import gateway from "./net/gateway.js";
import proxyKeepalivedStopped from "./proxy/keepalived-stopped.js";
import proxyModules from "./proxy/modules.js";
import proxyRoundRobin from "./proxy/round-robin.js";
import proxyLoadfactor from "./proxy/loadfactor.js";
import proxyRouteidCookie from "./proxy/routeid-cookie.js";
import proxySticky from "./proxy/sticky.js";
import proxyFailover from "./proxy/failover.js";
import lvsModules from "./lvs/modules.js";
import lvsVirtualServer from "./lvs/virtual-server.js";
import lvsRoundRobin from "./lvs/round-robin.js";
import lvsWeights from "./lvs/weights.js";
import lvsPersistence from "./lvs/persistence.js";
import lvsPersistenceLong from "./lvs/persistence-long.js";
import lvsHttpGet from "./lvs/http-get.js";
import lvsFailover from "./lvs/failover.js";
import lvsVrrpFailover from "./lvs/vrrp-failover.js";

/**
 * The rubric, in the order of the lab text. Ids are a contract (reports, rubrics and
 * gradebooks use them): never rename one.
 */
export const NET_CHECKS: Check[] = [vipHttp, twoBackends, ipForward, nat, gateway];
export const PROXY_CHECKS: Check[] = [proxyKeepalivedStopped, proxyModules, proxyRoundRobin, proxyLoadfactor, proxyRouteidCookie, proxySticky, proxyFailover];
export const LVS_CHECKS: Check[] = [lvsModules, lvsVirtualServer, lvsRoundRobin, lvsWeights, lvsPersistence, lvsPersistenceLong, lvsHttpGet, lvsFailover, lvsVrrpFailover];

export const ALL_CHECKS: Check[] = [...NET_CHECKS, ...PROXY_CHECKS, ...LVS_CHECKS];

/** The checks that grade one part: the scenario's network checks plus that part's own. */
export function checksForPart(part: "lvs" | "proxy"): Check[] {
  return [...NET_CHECKS, ...(part === "lvs" ? LVS_CHECKS : PROXY_CHECKS)];
}

/** The rubric the runner is given (it imports no check itself). */
export const RUBRIC: Rubric = { all: ALL_CHECKS, forPart: checksForPart };
