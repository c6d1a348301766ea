/**
 * The bench's figures, computed from saved RunResults alone (no lab, no clock): the phases of a
 * grade, their medians over runs, each statistical decision beside its yardstick and the
 * targets. Pure, so test/bench can check them on hand-made results.
 */
import type { CheckResult, Evidence, RunResult } from "../../src/runner/types.js";
import {
  DEFAULT_MAX_CYCLE,
  fewestAmongCycles,
  fewestAmongSchedulers,
  fixedSampleSize,
  plausibleAlternatives,
  schedulerCycles,
  toWeightTable,
  type SchedulerCycles,
  type Weights,
} from "../../src/stats/index.js";

/** The middle value (mean of the two middle ones for an even count); undefined for none. */
export function median(values: readonly number[]): number | undefined {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export type PhaseKind = "preflight" | "ssh" | "statistical" | "stickiness" | "failover" | "grade";

export interface PhaseFigure {
  phase: string;
  kind: PhaseKind;
  /** Wall time the phase held the grade (checks that wait for the VIP's lock count from when they got it). */
  wallMs: number;
  httpRequests: number;
  sshCommands: number;
  /** Mean time of one SSH command of the phase, when it ran any (what an SSH-bound phase costs). */
  sshCommandMs?: number;
}

/** Check ids per phase, in the order of a grade. Statistical checks are one phase each. */
export const PREFLIGHT_CHECKS = ["net.vip-http"];
export const SSH_INSPECTION_CHECKS = [
  "net.ip-forward",
  "net.nat",
  "net.gateway",
  "proxy.keepalived-stopped",
  "proxy.modules",
  "lvs.modules",
  "lvs.virtual-server",
  "lvs.http-get",
];
export const STATISTICAL_CHECKS = ["net.two-backends", "proxy.round-robin", "proxy.loadfactor", "lvs.round-robin", "lvs.weights", "lvs.persistence"];
export const STICKINESS_CHECKS = ["proxy.routeid-cookie", "proxy.sticky"];
export const FAILOVER_CHECKS = ["proxy.failover", "lvs.failover"];

interface Interval {
  start: number;
  end: number;
}

/**
 * When each check really ran, in ms from the grade's start. Checks that sample the VIP hold one
 * lock, so their recorded start includes the wait for it: a VIP check's own time starts when
 * the VIP check before it ended.
 */
export function checkIntervals(result: RunResult, vipCheckIds: ReadonlySet<string>): Map<string, Interval> {
  const origin = Date.parse(result.startedAt);
  const out = new Map<string, Interval>();
  for (const c of result.checks) {
    const start = Date.parse(c.startedAt) - origin;
    out.set(c.id, { start, end: start + c.durationMs });
  }
  const vip = result.checks
    .filter((c) => vipCheckIds.has(c.id) && c.outcome !== "skipped")
    .map((c) => ({ id: c.id, ...out.get(c.id)! }))
    .sort((a, b) => a.end - b.end);
  let previousEnd = -Infinity;
  for (const v of vip) {
    out.set(v.id, { start: Math.min(v.end, Math.max(v.start, previousEnd)), end: v.end });
    previousEnd = v.end;
  }
  return out;
}

/** Length of the union of intervals: checks of one phase run side by side. */
export function unionLength(intervals: readonly Interval[]): number {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  let total = 0;
  let current: Interval | undefined;
  for (const i of sorted) {
    if (!current || i.start > current.end) {
      if (current) total += current.end - current.start;
      current = { ...i };
    } else current.end = Math.max(current.end, i.end);
  }
  if (current) total += current.end - current.start;
  return total;
}

function sshCommandDurations(checks: readonly CheckResult[]): number[] {
  const out: number[] = [];
  for (const c of checks) {
    for (const e of c.evidence) {
      if (e.kind !== "ssh-commands" || !Array.isArray(e.commands)) continue;
      for (const cmd of e.commands as { durationMs?: unknown }[]) if (typeof cmd.durationMs === "number") out.push(cmd.durationMs);
    }
  }
  return out;
}

function groupFigure(phase: string, kind: PhaseKind, checks: CheckResult[], intervals: Map<string, Interval>): PhaseFigure {
  const ran = checks.filter((c) => c.outcome !== "skipped");
  const durations = sshCommandDurations(ran);
  const mean = durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : undefined;
  return {
    phase,
    kind,
    wallMs: unionLength(ran.map((c) => intervals.get(c.id)!)),
    httpRequests: ran.reduce((a, c) => a + (c.traffic?.httpRequests ?? 0), 0),
    sshCommands: ran.reduce((a, c) => a + (c.traffic?.sshCommands ?? 0), 0),
    ...(mean !== undefined ? { sshCommandMs: Math.round(mean) } : {}),
  };
}

interface FailoverEvidence {
  detectMs: number | null;
  rejoinMs: number | null;
  events: { t: number; what: string }[];
  timeline: { t: number }[];
}

type RestoreEvidence = Evidence & { before?: unknown; change?: unknown; undo?: unknown[]; verify?: unknown[] };

/**
 * SSH commands the restore journal ran for a check (state before, change, undo, verify): they
 * go through the SSH pool directly, so the run's traffic counters do not include them.
 */
export function journalCommands(check: CheckResult): { before: number; change: number; restore: number } {
  const r = check.evidence.find((e) => e.kind === "restore") as RestoreEvidence | undefined;
  return {
    before: r?.before ? 1 : 0,
    change: r?.change ? 1 : 0,
    restore: (Array.isArray(r?.undo) ? r.undo.length : 0) + (Array.isArray(r?.verify) ? r.verify.length : 0),
  };
}

/**
 * The three phases of a failover check, from its evidence: detection (stop until the traffic
 * settled without the victim), restore (start again, verified) and the rejoin wait (until the
 * balancer sends it traffic again: Apache's retry, keepalived's checker). SSH commands: the stop
 * in detection, undo and verify in restore; the check's own reads after the victim's page
 * (IPVS table reads, during the outage and while waiting) in the rejoin wait.
 */
export function failoverPhases(check: CheckResult): PhaseFigure[] {
  const f = check.evidence.find((e) => e.kind === "failover") as (Evidence & FailoverEvidence) | undefined;
  if (!f || !Array.isArray(f.events)) return [];
  const at = (what: RegExp) => f.events.find((e) => what.test(e.what))?.t;
  const stop = at(/^stop$/);
  const restoring = at(/^restoring$/);
  const started = at(/^start/);
  if (stop === undefined || restoring === undefined || started === undefined) return [];
  const rejoinMs = typeof f.rejoinMs === "number" ? f.rejoinMs : 0;
  const marksIn = (from: number, to: number) => f.timeline.filter((m) => m.t >= from && m.t < to).length;
  const journal = journalCommands(check);
  // The first command of the check reads the victim's page, before anything is stopped.
  const reads = Math.max(0, (check.traffic?.sshCommands ?? 0) - 1);
  return [
    { phase: "failover: detection", kind: "failover", wallMs: restoring - stop, httpRequests: marksIn(stop, restoring), sshCommands: journal.change },
    { phase: "failover: restore", kind: "failover", wallMs: started - restoring, httpRequests: marksIn(restoring, started), sshCommands: journal.restore },
    { phase: "failover: rejoin wait", kind: "failover", wallMs: rejoinMs, httpRequests: marksIn(started, started + rejoinMs + 1), sshCommands: reads },
  ];
}

/** The balancer's own reaction time in a failover (ms from the stop to the victim's last answer). */
export function failoverDetectMs(result: RunResult): number | undefined {
  for (const c of result.checks) {
    const f = c.evidence.find((e) => e.kind === "failover");
    if (f && typeof f.detectMs === "number") return f.detectMs;
  }
  return undefined;
}

/** Every phase of one grade, then the whole grade. */
export function phasesOf(result: RunResult, vipCheckIds: ReadonlySet<string>): PhaseFigure[] {
  const intervals = checkIntervals(result, vipCheckIds);
  const pick = (ids: readonly string[]) => result.checks.filter((c) => ids.includes(c.id));
  const out: PhaseFigure[] = [];
  const preflight = groupFigure("preflight", "preflight", pick(PREFLIGHT_CHECKS), intervals);
  // The SSH connection to the balancer is made while net.vip-http runs: the longer of the two.
  out.push({ ...preflight, wallMs: Math.max(preflight.wallMs, result.preflightMs ?? 0) });
  const inspection = pick(SSH_INSPECTION_CHECKS);
  if (inspection.some((c) => c.outcome !== "skipped")) out.push(groupFigure("SSH inspection", "ssh", inspection, intervals));
  for (const c of pick(STATISTICAL_CHECKS)) if (c.outcome !== "skipped") out.push(groupFigure(c.id, "statistical", [c], intervals));
  const sticky = pick(STICKINESS_CHECKS);
  if (sticky.some((c) => c.outcome !== "skipped")) out.push(groupFigure("stickiness", "stickiness", sticky, intervals));
  for (const c of pick(FAILOVER_CHECKS)) if (c.outcome !== "skipped") out.push(...failoverPhases(c));
  const journaled = result.checks.map(journalCommands).reduce((a, j) => a + j.before + j.change + j.restore, 0);
  out.push({
    phase: "whole grade",
    kind: "grade",
    wallMs: result.durationMs,
    httpRequests: result.traffic.httpRequests,
    sshCommands: result.traffic.sshCommands + journaled,
  });
  return out;
}

/** Per phase, the median of each figure over runs (phases missing from a run are left out of its median). */
export function medianPhases(runs: readonly PhaseFigure[][]): PhaseFigure[] {
  const order: PhaseFigure[] = [];
  for (const run of runs) for (const p of run) if (!order.some((o) => o.phase === p.phase)) order.push(p);
  return order.map((first) => {
    const same = runs.flatMap((run) => run.filter((p) => p.phase === first.phase));
    const m = (get: (p: PhaseFigure) => number | undefined) => Math.round(median(same.map(get).filter((v): v is number => v !== undefined)) ?? 0);
    const sshMs = same.some((p) => p.sshCommandMs !== undefined) ? m((p) => p.sshCommandMs) : undefined;
    return {
      phase: first.phase,
      kind: first.kind,
      wallMs: m((p) => p.wallMs),
      httpRequests: m((p) => p.httpRequests),
      sshCommands: m((p) => p.sshCommands),
      ...(sshMs !== undefined ? { sshCommandMs: sshMs } : {}),
    };
  });
}

/**
 * A ratio decision of a grade beside what the same question costs another way, like with
 * like: a decision of the sequential test beside the fixed-sample test at the same α, β and
 * alternatives; a decision of the exact-cycle rule beside the fewest answers that identify
 * the lab's cycle (docs/bench.md).
 */
export interface DecisionComparison {
  check: string;
  sample: string;
  expectedRatio: string;
  method: string;
  alpha: number;
  beta: number;
  /** Requests the decision used on the lab. */
  sequentialN: number;
  /** Which yardstick `baselineN` is. */
  baseline: "fixed-sample" | "identify-cycle";
  baselineN: number | undefined;
  /** Smallest n of a fixed-sample test at the same α, β and alternatives (two backends). */
  fixedN: number | undefined;
  /** The fewest of these answers after which no cycle of up to maxCycle requests with other shares fits them. */
  identifyN: number | undefined;
  /** The same among IPVS rr/wrr and Apache byrequests cycles of two backends weighted 1..100. */
  identifySchedulersN: number | undefined;
  /** sequentialN / baselineN. */
  requestRatio: number | undefined;
  /** The sample's own time, and what baselineN requests take at the same measured rate. */
  sequentialMs: number;
  baselineMs: number | undefined;
}

interface RatioEvidence {
  n: number;
  method: string;
  alpha: number;
  beta: number;
  expectedRatio: string;
  expectedShares: Record<string, number>;
  maxCycle?: number;
  cycle?: { period: number };
}

/** Expected weights by label from a verdict's ratio text ("3:1") and the labels of its shares. */
export function expectedWeights(ratio: RatioEvidence): Weights | undefined {
  const labels = Object.keys(ratio.expectedShares);
  const parts = ratio.expectedRatio.split(":").map(Number);
  if (parts.length === labels.length && parts.every((p) => Number.isFinite(p) && p > 0)) {
    return Object.fromEntries(labels.map((l, i) => [l, parts[i] ?? 0]));
  }
  return labels.length ? ratio.expectedShares : undefined;
}

const fixedCache = new Map<string, number | undefined>();

/**
 * The fixed-sample n for a two-backend ratio at the verdict's α and β, against the alternatives
 * the sequential test itself rules out (plausibleAlternatives). Undefined for more backends.
 */
export function fixedSampleFor(expected: Weights, alpha: number, beta: number): number | undefined {
  const key = `${JSON.stringify(expected)}|${alpha}|${beta}`;
  if (fixedCache.has(key)) return fixedCache.get(key);
  const table = toWeightTable(expected);
  let n: number | undefined;
  if (table.shares.length === 2) {
    const share0 = table.shares[0] ?? 0;
    const alternatives = plausibleAlternatives(table).map((a) => a.shares[0] ?? 0);
    n = fixedSampleSize(share0, alternatives, alpha, beta);
  }
  fixedCache.set(key, n);
  return n;
}

/** Every cycle of two backends weighted 1..100 (about a second to build: once, and only when needed). */
let twoBackendCycles: SchedulerCycles | undefined;

/**
 * How many of the sample's answers identify its cycle: among every cycle of up to maxCycle
 * requests (the exact-cycle rule's own question), and among the real schedulers' cycles.
 */
export function identifyFor(sequence: readonly string[], ratio: RatioEvidence): { identifyN?: number; identifySchedulersN?: number } {
  const labels = Object.keys(ratio.expectedShares);
  const period = ratio.cycle?.period;
  if (period === undefined) return {};
  const codes = sequence.slice(0, ratio.n).map((label) => labels.indexOf(label));
  // Errors or unknown pages in the cycle: nothing to identify among the schedulers' cycles.
  if (codes.some((c) => c < 0)) return {};
  const out: { identifyN?: number; identifySchedulersN?: number } = {};
  const identifyN = fewestAmongCycles(codes, period, ratio.maxCycle ?? DEFAULT_MAX_CYCLE);
  if (identifyN !== undefined) out.identifyN = identifyN;
  if (labels.length === 2) {
    twoBackendCycles ??= schedulerCycles(2, 100);
    const n = fewestAmongSchedulers(codes, period, twoBackendCycles);
    if (n !== undefined) out.identifySchedulersN = n;
  }
  return out;
}

/**
 * Each ratio decision of a grade (sample evidence carrying a `ratio` verdict) against its
 * yardstick. The time of n requests is the check's own measured rate (requests over its wall
 * time), which already includes the spec's rate bound.
 */
export function decisionComparisons(result: RunResult, vipCheckIds: ReadonlySet<string>): DecisionComparison[] {
  const intervals = checkIntervals(result, vipCheckIds);
  const out: DecisionComparison[] = [];
  for (const c of result.checks) {
    const requests = c.traffic?.httpRequests ?? 0;
    // A sample shared through memo is judged where it was taken (the check that sent it).
    if (requests === 0) continue;
    const interval = intervals.get(c.id);
    const msPerRequest = interval && requests > 0 ? (interval.end - interval.start) / requests : undefined;
    for (const e of c.evidence) {
      const ratio = e.kind === "sample" ? (e.ratio as RatioEvidence | undefined) : undefined;
      if (!ratio || typeof ratio.n !== "number") continue;
      const expected = expectedWeights(ratio);
      const fixedN = expected ? fixedSampleFor(expected, ratio.alpha, ratio.beta) : undefined;
      const sequence = e.kind === "sample" && Array.isArray(e.sequence) ? (e.sequence as string[]) : [];
      const identify = ratio.method === "exact-cycle" ? identifyFor(sequence, ratio) : {};
      const baseline = ratio.method === "exact-cycle" ? "identify-cycle" : "fixed-sample";
      const baselineN = baseline === "identify-cycle" ? identify.identifyN : fixedN;
      out.push({
        check: c.id,
        sample: e.kind === "sample" ? e.name : "",
        expectedRatio: ratio.expectedRatio,
        method: ratio.method,
        alpha: ratio.alpha,
        beta: ratio.beta,
        sequentialN: ratio.n,
        baseline,
        baselineN,
        fixedN,
        identifyN: identify.identifyN,
        identifySchedulersN: identify.identifySchedulersN,
        requestRatio: baselineN ? ratio.n / baselineN : undefined,
        sequentialMs: msPerRequest !== undefined ? Math.round(msPerRequest * ratio.n) : 0,
        baselineMs: msPerRequest !== undefined && baselineN ? Math.round(msPerRequest * baselineN) : undefined,
      });
    }
  }
  return out;
}

/** Median of the comparisons of several runs, per check and sample. */
export function medianComparisons(runs: readonly DecisionComparison[][]): DecisionComparison[] {
  const keys: DecisionComparison[] = [];
  for (const run of runs) for (const c of run) if (!keys.some((k) => k.check === c.check && k.sample === c.sample)) keys.push(c);
  return keys.map((k) => {
    const same = runs.flatMap((run) => run.filter((c) => c.check === k.check && c.sample === k.sample));
    const m = (get: (c: DecisionComparison) => number | undefined) => median(same.map(get).filter((v): v is number => v !== undefined));
    const round = (v: number | undefined) => (v !== undefined ? Math.round(v) : undefined);
    const sequentialN = Math.round(m((c) => c.sequentialN) ?? 0);
    const baselineN = round(m((c) => c.baselineN));
    return {
      ...k,
      sequentialN,
      baselineN,
      identifyN: round(m((c) => c.identifyN)),
      identifySchedulersN: round(m((c) => c.identifySchedulersN)),
      requestRatio: baselineN ? sequentialN / baselineN : undefined,
      sequentialMs: Math.round(m((c) => c.sequentialMs) ?? 0),
      baselineMs: round(m((c) => c.baselineMs)),
    };
  });
}
