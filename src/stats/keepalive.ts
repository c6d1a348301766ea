/**
 * Which balancer answers: requests sent on ONE keep-alive connection tell them apart.
 * Apache mod_proxy_balancer picks a member per request, also inside one connection, so the
 * backend changes within it; IPVS balances TCP connections, so every request of a connection
 * reaches the same backend (LAB-FACTS). Caveat for the caller: Apache with all but one member
 * in its `retry` window also looks pinned.
 */

import { apacheByrequestsOrder, longestRun } from "./schedulers.js";
import { toWeightTable, type Weights } from "./weights.js";

/** Every two consecutive labels differ and at least two labels appear: 1:1 byrequests. */
export function isAlternating(sequence: readonly string[]): boolean {
  if (sequence.length < 2) return false;
  for (let i = 1; i < sequence.length; i++) if (sequence[i] === sequence[i - 1]) return false;
  return true;
}

export interface KeepAliveBehaviour {
  /**
   * changes-per-request: two or more backends answered on one connection (Apache);
   * pinned: one backend answered more requests in a row than byrequests ever gives one backend
   * (IPVS); undecided: too few answers from known backends to tell.
   */
  behaviour: "changes-per-request" | "pinned" | "undecided";
  n: number;
  /** Answers from expected backends. */
  nValid: number;
  backendsSeen: string[];
  /** Backend changes between consecutive valid answers. */
  switches: number;
  /** Valid answers from one backend needed to call the connection pinned. */
  pinnedAfter: number;
}

/**
 * Classify the backends seen on one keep-alive connection. `backends` are the expected
 * weights (Apache loadfactors): with 3:1 byrequests gives backend 1 up to three requests in a
 * row (…1,1,2,1,1,1,2…), so "pinned" needs one more than the longest such run.
 */
export function keepAliveBehaviour(sequence: readonly string[], backends: Weights): KeepAliveBehaviour {
  const table = toWeightTable(backends, "backends");
  const cycle = table.weights.reduce((s, w) => s + w, 0);
  const order = apacheByrequestsOrder(table.weights, Number.isInteger(cycle) && cycle <= 10_000 ? cycle : 10_000);
  const pinnedAfter = longestRun(order) + 1;
  const known = new Set(table.labels);
  const seen = new Set<string>();
  let nValid = 0;
  let switches = 0;
  let previous: string | undefined;
  for (const label of sequence) {
    if (!known.has(label)) continue;
    nValid++;
    seen.add(label);
    if (previous !== undefined && previous !== label) switches++;
    previous = label;
  }
  const behaviour = seen.size >= 2 ? "changes-per-request" : nValid >= pinnedAfter ? "pinned" : "undecided";
  return { behaviour, n: sequence.length, nValid, backendsSeen: [...seen], switches, pinnedAfter };
}
