/**
 * The bench's whole report: its JSON shape, the targets it is judged on, and the text printed.
 * Pure, so a saved bench.json can be rendered again and test/bench can check the rendering.
 */
import type { Part } from "../../src/runner/types.js";
import { DEFAULT_MAX_CYCLE } from "../../src/stats/index.js";
import { median, type DecisionComparison, type PhaseFigure } from "./figures.js";
import { machineLine, type Machine } from "./machine.js";
import type { ClassFigure } from "./class.js";
import type { BenchOptions } from "./options.js";
import type { ParallelFigure } from "./parallel.js";
import type { ProbeLoopBench } from "./probe-loop.js";
import type { RandomWorkloadFigure } from "./random-workload.js";
import { formatMs, formatRatio, formatTable, missedTargets, phaseTable, requestTarget, timeTarget, type PhaseRow, type TargetResult } from "./report.js";

/** The issue's targets on the reference labs (2-core machine). */
export const TARGETS = { proxyMs: 5_000, proxyDisruptiveMs: 15_000, lvsMs: 20_000, requestRatio: 0.5, cycleRatio: 1.05, classRatio: 2 };

export interface GradeSeries {
  runs: number;
  wallMsRuns: number[];
  phases: PhaseFigure[];
  /** Checks that did not pass in some run (the figures then time a broken grade). */
  problems: string[];
}

export interface PartBench {
  part: Part;
  lab: string;
  ratePerSecond: number;
  grade: GradeSeries;
  sequential: GradeSeries & { ratio: number };
  statistics: DecisionComparison[];
  disruptive?: GradeSeries & { rejoinWaitMs: number; detectionMs: number; detectMs: number | undefined };
}

export interface BenchReport {
  schemaVersion: 1;
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  /** Load averages when the bench ended (the machine's at the start are in `machine`). */
  loadAverageEnd?: number[];
  options: BenchOptions;
  parts: Partial<Record<Part, PartBench>>;
  probeLoop?: ProbeLoopBench;
  parallel?: ParallelFigure[];
  /** A class of reference labs graded with --disruptive side by side, beside one alone. */
  class?: ClassFigure;
  /** The sequential test vs the fixed-sample test on simulated random labs (no lab needed). */
  randomWorkload?: RandomWorkloadFigure[];
  targets: TargetResult[];
}

export function targetsOf(report: BenchReport): TargetResult[] {
  const out: TargetResult[] = [];
  const proxy = report.parts.proxy;
  if (proxy) {
    out.push(timeTarget("Part 2 grade", "whole grade", TARGETS.proxyMs, median(proxy.grade.wallMsRuns) ?? Number.NaN, proxy.grade.phases, proxy.ratePerSecond));
    if (proxy.disruptive) {
      const net = (median(proxy.disruptive.wallMsRuns) ?? Number.NaN) - proxy.disruptive.rejoinWaitMs;
      const measured = proxy.disruptive.rejoinWaitMs > 0 ? "whole grade − Apache's rejoin wait" : "whole grade (no failover completed: nothing let off)";
      out.push(
        timeTarget("Part 2 grade --disruptive", measured, TARGETS.proxyDisruptiveMs, net, proxy.disruptive.phases, proxy.ratePerSecond, [
          "failover: rejoin wait",
        ]),
      );
    }
  }
  const lvs = report.parts.lvs;
  if (lvs) {
    out.push(timeTarget("Part 1 grade", "whole grade", TARGETS.lvsMs, median(lvs.grade.wallMsRuns) ?? Number.NaN, lvs.grade.phases, lvs.ratePerSecond));
    if (lvs.disruptive) {
      const net = (median(lvs.disruptive.wallMsRuns) ?? Number.NaN) - lvs.disruptive.rejoinWaitMs - lvs.disruptive.detectionMs;
      const measured = lvs.disruptive.detectionMs > 0 ? "whole grade − keepalived's detection and rejoin delays" : "whole grade (no failover completed: nothing let off)";
      out.push(
        timeTarget("Part 1 grade --disruptive", measured, TARGETS.lvsMs, net, lvs.disruptive.phases, lvs.ratePerSecond, [
          "failover: detection",
          "failover: rejoin wait",
        ]),
      );
    }
  }
  for (const p of Object.values(report.parts)) for (const c of p.statistics) out.push(requestTarget(c, TARGETS.requestRatio, TARGETS.cycleRatio));
  const cls = report.class;
  if (cls) {
    const met = cls.ratio <= TARGETS.classRatio;
    out.push({
      name: `a class of ${cls.labs} labs --disruptive ≤ ${TARGETS.classRatio}× one lab alone`,
      measure: `${formatMs(cls.classMs)} for ${cls.labs} labs, ${cls.concurrency} at once / ${formatMs(cls.oneLabMs)} for one`,
      limit: TARGETS.classRatio,
      measured: Math.round(cls.ratio * 100) / 100,
      unit: "ratio",
      met,
      ...(met
        ? {}
        : {
            heldBackBy: "the class",
            why:
              cls.concurrency < cls.labs
                ? `${cls.concurrency} labs at once (hagrade batch's default on this machine): the class is graded in ${Math.ceil(cls.labs / cls.concurrency)} rounds`
                : "every lab is graded at once: the grading process and the labs share the machine's cores (see the load average)",
          }),
    });
  }
  for (const f of report.randomWorkload ?? []) {
    const measured = f.ratio ?? Number.POSITIVE_INFINITY;
    const met = measured <= TARGETS.requestRatio;
    out.push({
      name: `random ${f.truth} lab, expected ${f.expected}: median requests ≤ ½ fixed-sample`,
      measure: `median ${f.medianN} requests of the sequential test / fixed-sample n ${f.fixedN ?? "?"}`,
      limit: TARGETS.requestRatio,
      measured: Number.isFinite(measured) ? Math.round(measured * 1000) / 1000 : measured,
      unit: "ratio",
      met,
      ...(met
        ? {}
        : {
            heldBackBy: `random ${f.truth} lab`,
            why:
              f.medianN <= DEFAULT_MAX_CYCLE + 4
                ? `a pass waits until the answers cannot be a deterministic cycle of up to ${DEFAULT_MAX_CYCLE} requests (about ${DEFAULT_MAX_CYCLE + 1} answers); a fixed-sample test sized for random answers does not guard against cycles`
                : "the truth is close to the expected ratio or to an alternative: the sequential test's steps are small there",
          }),
    });
  }
  return out;
}

export function phaseRows(report: BenchReport): PhaseRow[] {
  const rows: PhaseRow[] = [];
  for (const p of Object.values(report.parts)) {
    const targetFor = (name: string) => report.targets.find((t) => t.name === name);
    for (const phase of p.grade.phases) {
      const row: PhaseRow = { part: p.part, phase };
      if (phase.kind === "statistical") {
        const c = p.statistics.find((s) => s.check === phase.phase);
        if (c) {
          row.baseline =
            c.baseline === "identify-cycle"
              ? `identifies the cycle: ${c.baselineN ?? "?"} (rr/wrr/byrequests ≤ 100: ${c.identifySchedulersN ?? "?"})`
              : `fixed-sample n=${c.baselineN ?? "?"} (${formatMs(c.baselineMs ?? Number.NaN)})`;
          if (c.requestRatio !== undefined) row.ratio = c.requestRatio;
          const t = report.targets.find((x) => x.name.startsWith(`${c.check} (`));
          if (t) row.target = t;
        } else if (phase.httpRequests === 0) row.baseline = "reads another check's sample";
      }
      if (phase.kind === "grade") {
        row.baseline = `one after another ${formatMs(median(p.sequential.wallMsRuns) ?? Number.NaN)}`;
        row.ratio = p.sequential.ratio;
        const t = targetFor(p.part === "proxy" ? "Part 2 grade" : "Part 1 grade");
        if (t) row.target = t;
      }
      rows.push(row);
    }
    if (p.disruptive) {
      for (const phase of p.disruptive.phases.filter((x) => x.kind === "failover" || x.kind === "grade")) {
        const row: PhaseRow = { part: `${p.part} --disruptive`, phase };
        if (phase.kind === "grade") {
          const t = targetFor(p.part === "proxy" ? "Part 2 grade --disruptive" : "Part 1 grade --disruptive");
          if (t) row.target = t;
        }
        if (phase.phase === "failover: detection" && p.disruptive.detectMs !== undefined) row.baseline = `balancer reacted in ${formatMs(p.disruptive.detectMs)}`;
        rows.push(row);
      }
    }
  }
  const loop = report.probeLoop;
  if (loop) {
    rows.push({
      part: "proxy",
      phase: { phase: `probe loop, ${loop.requests} new connections`, kind: "statistical", wallMs: loop.hagradeMs, httpRequests: loop.requests, sshCommands: 0 },
      baseline: `curl loop ${formatMs(loop.curlMs)}`,
      ratio: loop.ratio,
    });
    rows.push({
      part: "proxy",
      phase: { phase: `probe loop at ≤ ${loop.ratePerSecond}/s`, kind: "statistical", wallMs: loop.hagradeBoundedMs, httpRequests: loop.requests, sshCommands: 0 },
      baseline: `curl loop ${formatMs(loop.curlMs)}`,
      ratio: loop.boundedRatio,
    });
  }
  return rows;
}

export function renderReport(report: BenchReport): string {
  const lines: string[] = [];
  lines.push(`hagrade bench — ${machineLine(report.machine)}${report.loadAverageEnd ? ` (at the end ${report.loadAverageEnd.join(" ")})` : ""}`);
  lines.push(`median of ${report.options.runs} runs${report.options.quick ? " (--quick)" : ""}; ratio = hagrade / baseline (requests for statistical checks, wall time otherwise)`);
  lines.push("");
  lines.push(phaseTable(phaseRows(report)));
  if (report.parallel?.length) {
    lines.push("");
    lines.push(
      formatTable(
        ["labs side by side", "wall (median)", "vs one lab", "peak RSS grading", "RSS before", "peak RSS process"],
        report.parallel.map((f) => [
          String(f.k),
          formatMs(f.wallMs),
          formatRatio(f.ratioToOne),
          mib(f.gradingPeakRssKiB),
          mib(f.rssBeforeKiB),
          mib(f.maxRssKiB),
        ]),
      ),
    );
  }
  const cls = report.class;
  if (cls) {
    lines.push("");
    lines.push(
      formatTable(
        ["a class, Part 2 --disruptive", "at once", "wall (median)", "one lab alone", "ratio", "peak RSS grading", "RSS before", "one lab: peak RSS", "labs' memory (Pss)"],
        [
          [
            `${cls.labs} labs`,
            String(cls.concurrency),
            formatMs(cls.classMs),
            formatMs(cls.oneLabMs),
            formatRatio(cls.ratio),
            mib(cls.gradingPeakRssKiB),
            mib(cls.rssBeforeKiB),
            mib(cls.oneLabGradingPeakRssKiB),
            `${mib(cls.labsPeakPssKiB)} (${mib(cls.labsRestPssKiB)} at rest, ${cls.labProcesses} processes)`,
          ],
        ],
      ),
    );
    if (cls.problems.length) lines.push("", "WARNING class: labs not graded to full marks (these figures time a broken grade):", ...cls.problems.map((x) => `  ${x}`));
  }
  if (report.randomWorkload?.length) {
    lines.push("");
    lines.push(
      formatTable(
        ["random lab (simulated)", "expected", "runs", "right", "median n", "p95 n", "undecided @400", "fixed-sample n", "median / fixed"],
        report.randomWorkload.map((f) => [
          `i.i.d. ${f.truth}`,
          f.expected,
          String(f.runs),
          `${((100 * f.right) / Math.max(1, f.runs)).toFixed(1)}%`,
          String(f.medianN),
          String(f.p95N),
          `${(100 * f.undecidedAt400).toFixed(1)}%`,
          f.fixedN !== undefined ? String(f.fixedN) : "—",
          formatRatio(f.ratio),
        ]),
      ),
    );
  }
  for (const p of Object.values(report.parts)) {
    const problems = [...p.grade.problems, ...p.sequential.problems, ...(p.disruptive?.problems ?? [])];
    if (problems.length) lines.push("", `WARNING ${p.part}: checks that did not pass (these figures time a broken grade):`, ...problems.map((x) => `  ${x}`));
  }
  const missed = missedTargets(report.targets);
  lines.push("", missed.length ? missed.join("\n") : `all ${report.targets.length} targets met`);
  return lines.join("\n");
}


function mib(kib: number): string {
  return `${Math.round(kib / 1024)} MiB`;
}
