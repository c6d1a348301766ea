/**
 * `npm run bench`: brings up the reference labs, grades them several times and prints, per phase
 * of a grade, the median wall time, requests and SSH commands, each beside its baseline:
 * (a) each statistical decision vs its yardstick (the exact-cycle rule vs the fewest answers that
 * identify the cycle, the sequential test vs a fixed-sample test at the same α and β, also on
 * simulated random labs), (b) the grade vs the same
 * checks one after another, (c) the probe loop vs curl in a shell loop; then k labs side by side
 * and peak RSS. Writes <out>/bench.json. Every lab it starts is taken down, also on Ctrl-C.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Part, RunResult } from "../../src/runner/types.js";
import { classBench, type ClassFigure } from "./class.js";
import { decisionComparisons, failoverDetectMs, median, medianComparisons, medianPhases, phasesOf } from "./figures.js";
import { gradeOnce, gradeProblems, loadLabSpec, VIP_CHECK_IDS, waitOutApacheRetry } from "./grading.js";
import { describeMachine } from "./machine.js";
import { parseBenchArgs, type BenchOptions } from "./options.js";
import { netnsLabIndexes, sweepOrphans } from "./orphans.js";
import { parallelBench, type ParallelFigure } from "./parallel.js";
import { probeLoopVsCurl, type ProbeLoopBench } from "./probe-loop.js";
import { randomWorkload } from "./random-workload.js";
import { formatMs } from "./report.js";
import { renderReport, targetsOf, type BenchReport, type GradeSeries, type PartBench } from "./summary.js";

/** The reference labs' address blocks (netns 10.220/10.221, VM 10.230/10.231): the bench reaches nothing else. */
const LAB_NETWORKS = "127.0.0.0/8,10.220.0.0/16,10.221.0.0/16,10.230.0.0/16,10.231.0.0/16";

const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

/** What must be undone however the bench ends: labs, temp folders. */
const cleanups: (() => Promise<void> | void)[] = [];
/** Namespace prefixes of the labs this bench started (hg<i>-, hgvm<i>-): checked gone at the end. */
const startedPrefixes: string[] = [];

/** This bench's labs still present after cleanup (other people's labs on the machine are not counted). */
function leftBehind(): string[] {
  let names: string[] = [];
  try {
    names = execFileSync("ip", ["netns", "list"], { encoding: "utf8" }).split("\n").map((l) => l.split(" ")[0] ?? "");
  } catch {
    return [];
  }
  return names.filter((n) => startedPrefixes.some((p) => n.startsWith(p)));
}

let cleaning: Promise<void> | undefined;
/** One cleanup, however many ways the bench ends at once (a signal during a failing run). */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const step = cleanups.pop()!;
      try {
        await step();
      } catch (error) {
        log(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return cleaning;
}

function summarize(results: readonly RunResult[]): GradeSeries {
  return {
    runs: results.length,
    wallMsRuns: results.map((r) => r.durationMs),
    phases: medianPhases(results.map((r) => phasesOf(r, VIP_CHECK_IDS))),
    problems: [...new Set(results.flatMap(gradeProblems))],
  };
}

/** Every grade's full RunResult, saved under <out>/results/ to look into a surprising figure. */
const savedResults: { name: string; result: RunResult }[] = [];

async function logged(label: string, grade: Promise<RunResult>): Promise<RunResult> {
  const r = await grade;
  savedResults.push({ name: label.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "").toLowerCase(), result: r });
  log(`${label}: ${formatMs(r.durationMs)}, ${r.traffic.httpRequests} requests, ${r.traffic.sshCommands} SSH commands, score ${r.score}/${r.maxScore}`);
  return r;
}

/** Grades of one running lab: concurrent and sequential interleaved, then the disruptive ones. */
async function benchLab(part: Part, specPath: string, options: BenchOptions, journalDir: string): Promise<PartBench> {
  const spec = await loadLabSpec(specPath);
  const run = { part, disruptive: false, journalDir };
  // A first grade warms what a teacher's first run also pays once (module JIT, ARP, Apache's children).
  await logged(`${part} warm-up grade`, gradeOnce(spec, run, specPath));
  const concurrent: RunResult[] = [];
  const sequential: RunResult[] = [];
  for (let i = 1; i <= options.runs; i++) {
    concurrent.push(await logged(`${part} grade ${i}/${options.runs}`, gradeOnce(spec, run, specPath)));
    sequential.push(await logged(`${part} grade ${i}/${options.runs}, checks one after another`, gradeOnce(spec, { ...run, sequential: true }, specPath)));
  }
  const grade = summarize(concurrent);
  const seq = summarize(sequential);
  const bench: PartBench = {
    part,
    lab: spec.lab,
    ratePerSecond: spec.sampling.ratePerSecond,
    grade,
    sequential: { ...seq, ratio: (median(grade.wallMsRuns) ?? Number.NaN) / (median(seq.wallMsRuns) ?? Number.NaN) },
    statistics: medianComparisons(concurrent.map((r) => decisionComparisons(r, VIP_CHECK_IDS))),
  };
  if (!options.quick) {
    const disruptive: RunResult[] = [];
    for (let i = 1; i <= options.disruptiveRuns; i++) {
      disruptive.push(await logged(`${part} grade --disruptive ${i}/${options.disruptiveRuns}`, gradeOnce(spec, { ...run, disruptive: true }, specPath)));
      // The next grade of this lab (disruptive, or the side-by-side batches) must find both servers serving.
      if (part === "proxy") await waitOutApacheRetry(log);
    }
    const d = summarize(disruptive);
    const phase = (name: string) => d.phases.find((p) => p.phase === name)?.wallMs ?? 0;
    bench.disruptive = {
      ...d,
      rejoinWaitMs: phase("failover: rejoin wait"),
      detectionMs: phase("failover: detection"),
      detectMs: median(disruptive.map(failoverDetectMs).filter((v): v is number => v !== undefined)),
    };
  }
  return bench;
}

/** Labs started at once: 30 lab.sh bring-ups together on 2 cores would outlast startLab's own timeout. */
const BRING_UP_AT_ONCE = 8;

type NetnsLab = Awaited<ReturnType<typeof import("../../fixtures/netns/index.js").startLab>>;

/**
 * k Part 2 reference labs, `BRING_UP_AT_ONCE` bring-ups at a time. Each is taken down by the
 * bench's cleanup however it ends (also a bring-up cut short by Ctrl-C).
 */
async function startNetnsLabs(k: number): Promise<NetnsLab[]> {
  const { startLab } = await import("../../fixtures/netns/index.js");
  log(`bringing up ${k} Part 2 reference labs (network namespaces)…`);
  const before = netnsLabIndexes();
  const starts: Promise<NetnsLab>[] = [];
  let next = 0;
  const worker = async () => {
    while (next < k && !stopping) {
      next++;
      const start = startLab({ variant: "correct" });
      starts.push(start);
      await start.catch(() => undefined);
    }
  };
  const starting = Promise.all(Array.from({ length: Math.min(k, BRING_UP_AT_ONCE) }, worker)).then(() => Promise.allSettled(starts));
  // Ctrl-C during the bring-up: wait for each start to end, stop what came up, sweep what a cut-short start left.
  cleanups.push(async () => {
    for (const s of await starting) if (s.status === "fulfilled") await s.value.stop();
    const swept = sweepOrphans(before);
    if (swept.length) log(`removed namespaces an interrupted bring-up left: ${swept.join(" ")}`);
  });
  const started = await starting;
  const labs = started.filter((s) => s.status === "fulfilled").map((s) => s.value);
  for (const lab of labs) startedPrefixes.push(`hg${lab.index}-`);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  if (labs.length < k) throw new Error(`only ${labs.length} of ${k} labs came up`);
  const ms = labs.map((l) => l.upMs);
  log(`${labs.length} labs up (${labs.length <= 8 ? labs.map((l) => `${l.name} ${formatMs(l.upMs)}`).join(", ") : `${labs[0]!.name}…${labs[labs.length - 1]!.name}, ${formatMs(Math.min(...ms))}–${formatMs(Math.max(...ms))} each`})`);
  return labs;
}

async function benchProxy(options: BenchOptions, journalDir: string): Promise<{ part: PartBench; loop: ProbeLoopBench; parallel: ParallelFigure[] }> {
  const labs = await startNetnsLabs(Math.max(...options.parallel));
  const first = labs[0]!;

  const part = await benchLab("proxy", first.specPath, options, journalDir);
  log(`probe loop vs curl: ${options.loopRequests} new-connection requests × ${options.runs}`);
  const loop = await probeLoopVsCurl(await loadLabSpec(first.specPath), options.loopRequests, options.runs);
  log(`${options.parallel.join(", ")} labs side by side, each batch in its own process × ${options.runs}`);
  const par = await parallelBench(
    labs.map((l) => l.specPath),
    options.parallel,
    options.runs,
    "proxy",
    journalDir,
  );
  if (par.problems.length) part.grade.problems.push(...par.problems.map((p) => `parallel: ${p}`));
  await Promise.all(labs.map((l) => l.stop()));
  return { part, loop, parallel: par.figures };
}

/** The class figure: its own labs, up only while it is measured. */
async function benchClass(options: BenchOptions, journalDir: string): Promise<ClassFigure> {
  // One more lab than the class: the one graded alone (a lab just failed over is not graded again at once).
  const labs = await startNetnsLabs(options.classLabs + 1);
  log(`a class: ${options.classLabs} labs graded with --disruptive side by side (hagrade batch's default concurrency) beside one more alone, each in its own process × ${options.disruptiveRuns}`);
  const figure = await classBench(
    labs.map((l) => l.specPath),
    labs.map((l) => l.index),
    options.disruptiveRuns,
    journalDir,
    log,
  );
  await Promise.all(labs.map((l) => l.stop()));
  return figure;
}

async function benchLvs(options: BenchOptions, journalDir: string): Promise<PartBench> {
  const { startVmLab } = await import("../../fixtures/vm/index.js");
  log("booting the Part 1 reference lab (qemu VM, wrr 3:1; 20–45 s)…");
  const lab = await startVmLab({ variant: "wrr-3-1" });
  startedPrefixes.push(`hgvm${lab.index}-`);
  cleanups.push(() => lab.stop());
  log(`VM up in ${formatMs(lab.bootMs)}`);
  const bench = await benchLab("lvs", lab.specPath, options, journalDir);
  await lab.stop();
  return bench;
}

async function main(): Promise<number> {
  const parsed = parseBenchArgs(process.argv.slice(2));
  if (!parsed.ok) {
    process.stderr.write(`${parsed.message}\n`);
    return 2;
  }
  const options = parsed.options;
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    process.stderr.write("bench: the reference labs use network namespaces (and a VM): run as root (sudo npm run bench)\n");
    return 2;
  }
  process.env.HAGRADE_ALLOWED_NETWORKS ??= LAB_NETWORKS;
  const journalDir = mkdtempSync(join(tmpdir(), "hagrade-bench-"));
  cleanups.push(() => rmSync(journalDir, { recursive: true, force: true }));
  const report: BenchReport = {
    schemaVersion: 1,
    startedAt: new Date().toISOString(),
    finishedAt: "",
    machine: describeMachine(),
    options,
    parts: {},
    targets: [],
  };
  const simulated = options.quick ? 500 : 2000;
  log(`sequential test vs fixed-sample test on simulated random labs: ${simulated} runs each`);
  report.randomWorkload = randomWorkload(simulated);
  if (options.part !== "lvs") {
    const proxy = await benchProxy(options, journalDir);
    report.parts.proxy = proxy.part;
    report.probeLoop = proxy.loop;
    report.parallel = proxy.parallel;
  }
  if (options.classLabs > 0) report.class = await benchClass(options, journalDir);
  if (options.part !== "proxy") report.parts.lvs = await benchLvs(options, journalDir);
  report.finishedAt = new Date().toISOString();
  report.loadAverageEnd = describeMachine().loadAverage;
  report.targets = targetsOf(report);
  const outDir = resolve(options.out);
  mkdirSync(outDir, { recursive: true });
  const jsonPath = join(outDir, "bench.json");
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  const resultsDir = join(outDir, "results");
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir);
  for (const { name, result } of savedResults) writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(result)}\n`);
  process.stdout.write(`${renderReport(report)}\n\nbench.json: ${jsonPath}\n`);
  return 0;
}

let stopping = false;
for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: taking the labs down…`);
    void finish(code).then(() => process.exit(code));
  });
}

async function finish(code: number): Promise<number> {
  await cleanUp();
  const left = leftBehind();
  if (left.length === 0) return code;
  const hints = [...new Set(left.map((n) => /^hg(vm)?(\d+)-/.exec(n)).map((m) => (m ? `bash fixtures/${m[1] ? "vm" : "netns"}/lab.sh down --index ${m[2]}` : "")))];
  log(`labs left behind: ${left.join(" ")} (take them down: ${hints.filter(Boolean).join("; ")})`);
  return code === 0 ? 1 : code;
}

main()
  .then(finish, (error: unknown) => {
    // After Ctrl-C the children die with the bench: their failure is not news.
    if (!stopping) log(`failed: ${error instanceof Error ? error.message : String(error)}`);
    return finish(3);
  })
  .then((code) => {
    process.exitCode = code;
  });
