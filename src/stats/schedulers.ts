/**
 * The deterministic orders the lab's two schedulers produce, for simulations and for knowing
 * how long a correct lab may keep answering from the same backend.
 */

/**
 * Apache mod_lbmethod_byrequests: every pick adds each worker's lbfactor to its lbstatus,
 * takes the highest lbstatus (the first on ties) and subtracts the total factor from it.
 * That is a smooth weighted round robin: 3:1 gives 1,1,2,1 (LAB-FACTS: "a fixed smooth cycle").
 * Returns backend indexes; counters start at zero as after a restart or graceful.
 */
export function apacheByrequestsOrder(loadfactors: readonly number[], count: number): number[] {
  const status = loadfactors.map(() => 0);
  const total = loadfactors.reduce((s, f) => s + f, 0);
  const out: number[] = [];
  for (let n = 0; n < count; n++) {
    let best = -1;
    for (let i = 0; i < loadfactors.length; i++) {
      status[i] = (status[i] ?? 0) + (loadfactors[i] ?? 0);
      if (best < 0 || (status[i] ?? 0) > (status[best] ?? 0)) best = i;
    }
    status[best] = (status[best] ?? 0) - total;
    out.push(best);
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Linux IPVS wrr (ip_vs_wrr.c): a current weight cw steps down from the maximum by the
 * weights' gcd; each pick takes the next server in table order whose weight ≥ cw. 3:1 gives
 * 1,1,1,2 (LAB-FACTS reads the same cycle from another phase: 2,1,1,1). rr is wrr with equal
 * weights. Integer weights only, as ipvsadm takes them.
 */
export function lvsWrrOrder(weights: readonly number[], count: number): number[] {
  const divisor = weights.reduce((g, w) => gcd(g, w), 0);
  // The kernel starts (and restarts) at max − (gcd − 1), so the first pass takes the heaviest.
  const max = Math.max(...weights) - (divisor - 1);
  let cw = max;
  let current = -1;
  const out: number[] = [];
  if (max <= 0) return out;
  while (out.length < count) {
    current++;
    if (current >= weights.length) {
      current = 0;
      cw -= divisor;
      if (cw <= 0) cw = max;
    }
    if ((weights[current] ?? 0) >= cw) out.push(current);
  }
  return out;
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
