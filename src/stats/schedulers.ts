/**
 * The deterministic orders the lab's schedulers produce, step for step as the real code takes
 * them, for simulations and for knowing how long a correct lab may keep answering from the
 * same backend. Weights are given per backend label (the ratio's order); `order` is the order
 * of the servers in the balancer's own list (IPVS's destination list, Apache's members), which
 * the real code walks and which the lab's configuration does not always show.
 *
 * Sources, read for this module (none of their code is copied):
 * - Linux net/netfilter/ipvs/ip_vs_wrr.c (ip_vs_wrr_init_svc, ip_vs_wrr_dest_changed,
 *   ip_vs_wrr_schedule) and ip_vs_rr.c (ip_vs_rr_schedule), as in torvalds/linux;
 * - Apache httpd modules/proxy/balancers/mod_lbmethod_byrequests.c (find_best_byrequests and,
 *   in 2.4.x, is_best_byrequests with ap_proxy_balancer_get_best_worker), and
 *   modules/proxy/mod_proxy.c set_worker_param: `loadfactor` is 1..100, stored ×100 since
 *   2.4.27 so that two decimals are allowed, which scales every lbfactor alike and changes
 *   no order.
 */

/** The schedulers simulated here: IPVS `rr`, IPVS `wrr`, Apache `lbmethod=byrequests`. */
export type SchedulerName = "lvs-rr" | "lvs-wrr" | "apache-byrequests";

export const SCHEDULERS: readonly SchedulerName[] = ["lvs-rr", "lvs-wrr", "apache-byrequests"];

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return Math.abs(a);
}

function identity(k: number): number[] {
  return Array.from({ length: k }, (_, i) => i);
}

/**
 * IPVS wrr, one pick at a time, with the kernel's state (ip_vs_wrr_mark):
 * - init (ipvsadm -A / keepalived starting): cl = list head, di = gcd of the positive weights,
 *   mw = max weight − (di − 1), cw = mw;
 * - schedule: walk on from cl to the next destination whose weight ≥ cw; each time the walk
 *   passes the end of the list, cw −= di, and cw ≤ 0 starts over at mw;
 * - edit (a destination added, removed or re-weighted: ip_vs_wrr_dest_changed): cl = head,
 *   di and mw recomputed, cw = mw if it was above the new mw (or 0), else rounded to the
 *   step's grid ((cw / di)·di + 1).
 * Overloaded destinations (upper thresholds) are not modelled: the lab sets none.
 */
export interface LvsWrr {
  /** The next destination (a label index), or undefined when every weight is 0. */
  next(): number | undefined;
  /** ipvsadm -e / keepalived reload with new weights (same destinations, same list order). */
  edit(weights: readonly number[]): void;
}

export function createLvsWrr(weights: readonly number[], order: readonly number[] = identity(weights.length)): LvsWrr {
  let w = [...weights];
  let di = 1;
  let mw = 0;
  let cw = 0;
  // cl: position in `order`; −1 is the list head.
  let cl = -1;
  const recompute = (): void => {
    const g = w.reduce((acc, x) => (x > 0 ? gcd(acc, x) : acc), 0);
    di = g > 0 ? g : 1;
    mw = Math.max(0, ...w) - (di - 1);
    if (Math.max(0, ...w) === 0) mw = 0;
  };
  recompute();
  cw = mw;
  return {
    next() {
      if (mw <= 0) return undefined;
      // Every weight ≥ 1 is found within one pass at cw = 1, so this ends.
      for (;;) {
        cl++;
        if (cl >= order.length) {
          cl = -1;
          cw -= di;
          if (cw <= 0) cw = mw;
          continue;
        }
        const dest = order[cl] ?? 0;
        if ((w[dest] ?? 0) >= cw) return dest;
      }
    },
    edit(newWeights) {
      w = [...newWeights];
      cl = -1;
      recompute();
      if (cw > mw || cw === 0) cw = mw;
      else if (di > 1) cw = Math.floor(cw / di) * di + 1;
    },
  };
}

/**
 * Linux IPVS wrr from a new service: a current weight cw steps down from the maximum by the
 * weights' gcd; each pick takes the next server in list order whose weight ≥ cw. 3:1 gives
 * 1,1,1,2 (LAB-FACTS reads the same cycle from another phase: 2,1,1,1). Integer weights only,
 * as ipvsadm takes them; all zero gives nothing.
 */
export function lvsWrrOrder(weights: readonly number[], count: number, order?: readonly number[]): number[] {
  const scheduler = createLvsWrr(weights, order);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const dest = scheduler.next();
    if (dest === undefined) break;
    out.push(dest);
  }
  return out;
}

/**
 * Linux IPVS rr (ip_vs_rr.c): from the last pick, the next destination in list order whose
 * weight is above 0. Weights other than 0 (quiesced) play no part: rr with weights 3:1 gives
 * 1:1.
 */
export function lvsRrOrder(weights: readonly number[], count: number, order: readonly number[] = identity(weights.length)): number[] {
  const usable = order.filter((i) => (weights[i] ?? 0) > 0);
  const out: number[] = [];
  if (usable.length === 0) return out;
  for (let i = 0; i < count; i++) out.push(usable[i % usable.length] ?? 0);
  return out;
}

/**
 * Apache mod_lbmethod_byrequests: every pick adds each usable worker's lbfactor to its
 * lbstatus, takes the worker with the highest lbstatus (strictly higher than the best so far,
 * so the first in member order wins a tie) and subtracts the total factor from it, so the
 * statuses always sum to zero. That is a smooth weighted round robin: 3:1 gives 1,1,2,1
 * (LAB-FACTS: "a fixed smooth cycle"). Counters start at zero, as after a start or the
 * balancer's reset. Returns label indexes.
 */
export function apacheByrequestsOrder(loadfactors: readonly number[], count: number, order: readonly number[] = identity(loadfactors.length)): number[] {
  const status = loadfactors.map(() => 0);
  let total = 0;
  for (const i of order) if ((loadfactors[i] ?? 0) > 0) total += loadfactors[i] ?? 0;
  const out: number[] = [];
  if (total === 0) return out;
  for (let n = 0; n < count; n++) {
    let best = -1;
    for (const i of order) {
      const factor = loadfactors[i] ?? 0;
      // A worker with no factor stands for one that is not usable (in error, disabled).
      if (factor <= 0) continue;
      status[i] = (status[i] ?? 0) + factor;
      if (best < 0 || (status[i] ?? 0) > (status[best] ?? 0)) best = i;
    }
    status[best] = (status[best] ?? 0) - total;
    out.push(best);
  }
  return out;
}

/** The scheduler's order for `count` requests from its starting state. */
export function schedulerOrder(scheduler: SchedulerName, weights: readonly number[], count: number, order?: readonly number[]): number[] {
  switch (scheduler) {
    case "lvs-rr":
      return lvsRrOrder(weights, count, order);
    case "lvs-wrr":
      return lvsWrrOrder(weights, count, order);
    case "apache-byrequests":
      return apacheByrequestsOrder(weights, count, order);
  }
}

/**
 * Length of one full turn of the scheduler from its starting state: it is then back in that
 * state, so the order repeats with this period (possibly a multiple of the shortest one).
 * wrr: mw/di passes, one pick per reduced weight unit; rr: one pick per usable server;
 * byrequests: the statuses return to zero after total/gcd picks.
 */
export function turnLength(scheduler: SchedulerName, weights: readonly number[]): number {
  const positive = weights.filter((w) => w > 0);
  if (positive.length === 0) return 0;
  if (scheduler === "lvs-rr") return positive.length;
  const g = positive.reduce((acc, w) => gcd(acc, w), 0);
  return positive.reduce((s, w) => s + w / g, 0);
}

/** The shortest p with s[i] = s[i + p] for the whole (cyclic) sequence: p divides its length. */
export function primitivePeriod(cycle: ArrayLike<number>): number {
  const n = cycle.length;
  if (n === 0) return 0;
  const border = new Int32Array(n);
  for (let i = 1; i < n; i++) {
    let k = border[i - 1] ?? 0;
    while (k > 0 && cycle[i] !== cycle[k]) k = border[k - 1] ?? 0;
    if (cycle[i] === cycle[k]) k++;
    border[i] = k;
  }
  const p = n - (border[n - 1] ?? 0);
  return n % p === 0 ? p : n;
}

/**
 * One cycle of the scheduler's order from its starting state, cut to its shortest period, as
 * label indexes. Every later state (after other clients' requests, or after an edit of the
 * weights: see createLvsWrr) is a rotation of it.
 */
export function schedulerCycle(scheduler: SchedulerName, weights: readonly number[], order?: readonly number[]): Uint8Array {
  const length = turnLength(scheduler, weights);
  const turn = schedulerOrder(scheduler, weights, length, order);
  return Uint8Array.from(turn.slice(0, primitivePeriod(turn)));
}

/** Index of the lexicographically least rotation (Booth's algorithm), to name a cyclic order once. */
export function leastRotation(cycle: ArrayLike<number>): number {
  const n = cycle.length;
  const failure = new Int32Array(2 * n).fill(-1);
  let k = 0;
  for (let j = 1; j < 2 * n; j++) {
    const sj = cycle[j % n] ?? 0;
    let i = failure[j - k - 1] ?? -1;
    while (i !== -1 && sj !== (cycle[(k + i + 1) % n] ?? 0)) {
      if (sj < (cycle[(k + i + 1) % n] ?? 0)) k = j - i - 1;
      i = failure[i] ?? -1;
    }
    if (sj !== (cycle[(k + i + 1) % n] ?? 0)) {
      if (sj < (cycle[k % n] ?? 0)) k = j;
      failure[j - k] = -1;
    } else {
      failure[j - k] = i + 1;
    }
  }
  return k % Math.max(1, n);
}

/** The longest run of one backend in a (cyclic) order. */
export function longestRun(order: readonly number[]): number {
  if (order.length === 0) return 0;
  let best = 1;
  let run = 1;
  // Twice round the cycle, so a run across the cycle boundary is counted whole.
  for (let i = 1; i < order.length * 2; i++) {
    if (order[i % order.length] === order[(i - 1) % order.length]) run++;
    else run = 1;
    if (run > best) best = Math.min(run, order.length);
  }
  return best;
}
