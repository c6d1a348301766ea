/**
 * The bench's verdicts on its targets and its printed table. Pure: figures in, text out.
 */
import type { DecisionComparison, PhaseFigure } from "./figures.js";

export interface TargetResult {
  name: string;
  /** What is compared with the limit, in words ("whole grade − rejoin wait"). */
  measure: string;
  limit: number;
  measured: number;
  unit: "ms" | "ratio";
  met: boolean;
  /** On a miss: the phase that holds the figure back, and why. */
  heldBackBy?: string;
  why?: string;
}

/** Why a phase takes the time it takes, from its own figures. */
export function explainPhase(p: PhaseFigure, ratePerSecond: number): string {
  if (p.phase === "failover: detection") return "the balancer must notice the stopped server, then 10 answers in a row without it settle the outage";
  if (p.phase === "failover: rejoin wait") return "the balancer sends the server traffic again only after its own delay (Apache's retry, keepalived's checker)";
  if (p.phase === "failover: restore") return "starting the web server over SSH and verifying its page";
  const floorMs = (p.httpRequests * 1000) / ratePerSecond;
  if (p.httpRequests > 0 && floorMs >= 0.5 * p.wallMs) {
    return `${p.httpRequests} requests under the spec's rate bound of ${ratePerSecond}/s take at least ${Math.round(floorMs)} ms`;
  }
  if (p.sshCommands > 0) {
    return `${p.sshCommands} SSH command${p.sshCommands === 1 ? "" : "s"}${p.sshCommandMs !== undefined ? `, ${p.sshCommandMs} ms each on average` : ""}`;
  }
  if (p.httpRequests > 0) return `${p.httpRequests} requests, ${Math.round(p.wallMs / p.httpRequests)} ms each: the lab's answers are slow`;
  return "waiting on the lab";
}

/** The phase that costs the most wall time among `phases` (the whole grade and excluded phases left out). */
export function slowestPhase(phases: readonly PhaseFigure[], exclude: readonly string[] = []): PhaseFigure | undefined {
  return phases
    .filter((p) => p.kind !== "grade" && !exclude.includes(p.phase))
    .reduce<PhaseFigure | undefined>((slowest, p) => (!slowest || p.wallMs > slowest.wallMs ? p : slowest), undefined);
}

/**
 * A time target: `measured` (already net of what the target lets off, e.g. the rejoin wait)
 * against `limitMs`; on a miss, the slowest phase outside `exclude` and why.
 */
export function timeTarget(
  name: string,
  measure: string,
  limitMs: number,
  measured: number,
  phases: readonly PhaseFigure[],
  ratePerSecond: number,
  exclude: readonly string[] = [],
): TargetResult {
  const met = measured <= limitMs;
  const result: TargetResult = { name, measure, limit: limitMs, measured, unit: "ms", met };
  if (!met) {
    const slowest = slowestPhase(phases, exclude);
    if (slowest) {
      result.heldBackBy = slowest.phase;
      result.why = `${slowest.phase} takes ${formatMs(slowest.wallMs)}: ${explainPhase(slowest, ratePerSecond)}`;
    }
  }
  return result;
}

/**
 * The statistical targets, like with like: a decision of the sequential test needs at most
 * `fixedLimit` (½) of the fixed-sample test's requests; a decision of the exact-cycle rule at
 * most `cycleLimit` (1.05) times the fewest answers that identify the cycle among every cycle
 * of up to maxCycle requests.
 */
export function requestTarget(c: DecisionComparison, fixedLimit = 0.5, cycleLimit = 1.05): TargetResult {
  const measured = c.requestRatio ?? Number.POSITIVE_INFINITY;
  const cycle = c.baseline === "identify-cycle";
  const limit = cycle ? cycleLimit : fixedLimit;
  const met = measured <= limit;
  const yardstick = cycle ? `fewest answers that identify the cycle ${c.baselineN ?? "?"}` : `fixed-sample n ${c.baselineN ?? "?"} at α=${c.alpha}, β=${c.beta}`;
  return {
    name: `${c.check} (${c.sample}) requests ≤ ${cycle ? `${cycleLimit}× the fewest that identify the cycle` : "½ fixed-sample"}`,
    measure: `${c.sequentialN} requests (${c.method}) / ${yardstick}`,
    limit,
    measured: Number.isFinite(measured) ? round3(measured) : measured,
    unit: "ratio",
    met,
    ...(met
      ? {}
      : {
          heldBackBy: c.check,
          why:
            c.baselineN === undefined
              ? cycle
                ? "the sample is too short to say how many answers identify its cycle"
                : "no fixed-sample n to compare with (more than two backends, or beyond the search bound)"
              : cycle
                ? "the exact-cycle rule needed more answers than identify the cycle (its three repetitions or its chance bound)"
                : "the sequential test needed more than half the fixed-sample test's requests (concurrent clients or a random scheduler)",
        }),
  };
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "—";
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export function formatRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return "—";
  return x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A plain text table: columns padded to their widest cell, numbers right-aligned. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => /^[\d.,]*\s?(ms|s|×|%)?$|^—$/.test(r[i] ?? "")));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** One row of the phase table: a phase with its baseline, when it has one. */
export interface PhaseRow {
  part: string;
  phase: PhaseFigure;
  baseline?: string;
  ratio?: number;
  target?: TargetResult;
}

export function phaseTable(rows: readonly PhaseRow[]): string {
  return formatTable(
    ["part", "phase", "wall (median)", "requests", "SSH", "baseline", "ratio", "target"],
    rows.map((r) => [
      r.part,
      r.phase.phase,
      formatMs(r.phase.wallMs),
      String(r.phase.httpRequests),
      String(r.phase.sshCommands),
      r.baseline ?? "",
      r.ratio !== undefined ? formatRatio(r.ratio) : "",
      r.target ? targetCell(r.target) : "",
    ]),
  );
}

export function targetCell(t: TargetResult): string {
  const limit = t.unit === "ms" ? `≤ ${formatMs(t.limit)}` : `≤ ${t.limit}`;
  return t.met ? `met (${limit})` : `MISSED (${limit}; held back by ${t.heldBackBy ?? "?"})`;
}

/** The lines that say, for each missed target, which phase holds it back and why. */
export function missedTargets(targets: readonly TargetResult[]): string[] {
  return targets
    .filter((t) => !t.met)
    .map((t) => `MISSED ${t.name}: ${t.unit === "ms" ? formatMs(t.measured) : t.measured} (${t.measure}) — ${t.why ?? "no phase to blame"}`);
}
