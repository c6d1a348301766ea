/**
 * Failover measurement, shared by proxy.failover, lvs.failover and lvs.vrrp-failover: the
 * traffic watch (failover/watch.ts), the measure over SSH (failover/measure.ts) or with a
 * person's hands (failover/guided.ts), and the verdicts they share (failover/verdict.ts).
 */
export { DEFAULT_START, DEFAULT_STOP, measureFailover } from "./failover/measure.js";
export { failoverByPerson, failoverUnavailable, PERSON_BOUND_MS } from "./failover/guided.js";
export type { FailoverMeasure, FailoverOptions } from "./failover/types.js";
export { sharedFailoverVerdict } from "./failover/verdict.js";
export { CHEAT_WINDOW_MS, pollWithBackoff, SETTLED_ANSWERS, settledWithout, TrafficWatch, type Mark } from "./failover/watch.js";
