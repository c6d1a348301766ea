import { ev, isText, type CheckResult, type CheckTraffic, type Evidence, type Outcome, type Part, type Text, type Verdict } from "../model/index.js";
import type { CheckDefinition } from "./types.js";
import { isSshError, sshErrorVerdict } from "../ssh/index.js";
import { Mutex } from "./lock.js";

/** Events the runner emits; reporters subscribe to the ones they need (Playwright's reporter model). */
export interface RunEvents {
  onCheckBegin?(check: CheckDefinition<never>): void;
  onCheckProgress?(checkId: string, text: string): void;
  onCheckEnd?(result: CheckResult): void;
}

export interface ScheduleOptions {
  /** Points per check id from the spec's rubric (overrides the check's default). */
  points?: Record<string, number>;
  /**
   * A verdict given without running the check: skipped (no SSH in the spec, --disruptive not
   * given, the balancer unreachable) or error (the grader's SSH credentials unusable).
   */
  gate?: (check: CheckDefinition<never>) => Verdict | undefined | Promise<Verdict | undefined>;
  /**
   * A check the options leave out (a disruptive one without --disruptive, a long one without
   * --long): decided from the options alone, before dependencies, so it never counts in the
   * maximum score whatever the lab did. Its verdict is marked notRequested.
   */
  notRequested?: (check: CheckDefinition<never>) => Verdict | undefined;
  /** Evidence the runner adds to a check's own (the SSH commands it ran). */
  extraEvidence?: (check: CheckDefinition<never>, ctx: unknown) => Evidence[];
  /**
   * What the check last said it was doing (its progress line): a check cut short by its deadline
   * or the run's budget keeps it in its message and evidence, so the report says where it stopped.
   */
  progressOf?: (check: CheckDefinition<never>, ctx: unknown) => Text | undefined;
  /** What the check sent, recorded on its result (the bench's per-phase request and SSH counts). */
  trafficOf?: (check: CheckDefinition<never>, ctx: unknown) => CheckTraffic | undefined;
  /** Default per-check deadline when the check declares none. */
  defaultTimeoutMs?: number;
  /**
   * The whole run's budget (batch grading): once aborted, running checks end as `inconclusive`
   * (their own signal aborts, so disruptive ones restore) and checks not yet started are skipped.
   */
  signal?: AbortSignal;
  /**
   * Work of a check that was cut short (deadline or budget) and is still winding down, e.g. a
   * failover restoring the web server it stopped: the caller waits for it before closing SSH.
   */
  onLinger?: (work: Promise<unknown>) => void;
  /**
   * Run every check strictly one after another, in dependency order: the baseline the bench
   * compares the concurrent schedule with. Default false.
   */
  sequential?: boolean;
  events?: RunEvents;
}

const PASSING: Outcome[] = ["pass"];

/**
 * Runs checks in dependency order.
 * - A check whose dependency did not pass is skipped with the dependency's reason.
 * - Checks that sample the VIP hold one lock (interleaved traffic shifts round-robin counters).
 * - Disruptive checks (and those with a disruptive half, and long waits) run alone, after every
 *   other check, so they never disturb a sample and no sample disturbs them.
 * - Other checks (SSH inspections) run concurrently with the sampling.
 */
export async function runChecks<Ctx>(
  checks: CheckDefinition<Ctx>[],
  makeCtx: (check: CheckDefinition<Ctx>, signal: AbortSignal) => Ctx,
  options: ScheduleOptions = {},
): Promise<CheckResult[]> {
  const results = new Map<string, CheckResult>();
  const done = new Map<string, Promise<CheckResult>>();
  const vipLock = new Mutex();
  const byId = new Map(checks.map((c) => [c.id, c]));

  const runOne = async (check: CheckDefinition<Ctx>): Promise<CheckResult> => {
    const left = options.notRequested?.(check as CheckDefinition<never>);
    const deps = left ? [] : (check.dependsOn ?? []).filter((id) => byId.has(id));
    const depResults = await Promise.all(deps.map((id) => done.get(id)!));
    const startedAt = new Date();
    const maxPoints = options.points?.[check.id] ?? check.points;
    const finish = (given: Verdict, traffic?: CheckTraffic): CheckResult => {
      const verdict = settleCredit(given);
      const credit = verdict.outcome === "pass" ? 1 : verdict.outcome === "fail" ? (verdict.credit ?? 0) : 0;
      const result: CheckResult = {
        id: check.id,
        part: check.part,
        title: check.title,
        outcome: verdict.outcome,
        // A fail never rounds up to the full points.
        points: verdict.notRequested ? 0 : verdict.outcome === "fail" ? Math.min(round2(maxPoints * credit), Math.max(0, round2(maxPoints - 0.01))) : round2(maxPoints * credit),
        maxPoints: verdict.notRequested ? 0 : maxPoints,
        // Kept so a saved result can be re-scored under another rubric without the lab.
        credit: verdict.outcome === "fail" ? Math.min(round4(credit), 0.9999) : round4(credit),
        ...(verdict.notRequested ? { notRequested: true } : {}),
        message: verdict.message,
        ...(verdict.fix ? { fix: verdict.fix } : {}),
        evidence: verdict.evidence,
        startedAt: startedAt.toISOString(),
        durationMs: Date.now() - startedAt.getTime(),
        ...(traffic ? { traffic } : {}),
      };
      results.set(check.id, result);
      options.events?.onCheckEnd?.(result);
      return result;
    };

    if (left) return finish({ ...left, notRequested: true });
    const failedDep = depResults.find((r) => !PASSING.includes(r.outcome));
    if (failedDep) {
      return finish({
        outcome: "skipped",
        message: {
          es: `No se evalúa: depende de ${failedDep.id} (${outcomeWord(failedDep.outcome, "es")}).`,
          en: `Not graded: depends on ${failedDep.id} (${outcomeWord(failedDep.outcome, "en")}).`,
        },
        evidence: [ev.dependency({ dependsOn: failedDep.id, outcome: failedDep.outcome })],
      });
    }
    if (options.signal?.aborted) return finish(budgetVerdict("skipped"));
    const gated = await options.gate?.(check as CheckDefinition<never>);
    if (gated) return finish(gated);

    options.events?.onCheckBegin?.(check as CheckDefinition<never>);
    let ctx: Ctx | undefined;
    const make = (c: CheckDefinition<Ctx>, signal: AbortSignal): Ctx => (ctx = makeCtx(c, signal));
    const execute = () =>
      options.signal?.aborted
        ? Promise.resolve(budgetVerdict("skipped"))
        : runWithDeadline(check, make, check.timeoutMs ?? options.defaultTimeoutMs ?? 120_000, options.signal, options.onLinger);
    const ran = check.usesVip ? await vipLock.run(execute) : await execute();
    const verdict = ctx === undefined ? ran : withProgressAtCut(ran, options.progressOf?.(check as CheckDefinition<never>, ctx));
    const extra = ctx === undefined ? [] : (options.extraEvidence?.(check as CheckDefinition<never>, ctx) ?? []);
    const traffic = ctx === undefined ? undefined : options.trafficOf?.(check as CheckDefinition<never>, ctx);
    return finish(extra.length ? { ...verdict, evidence: [...verdict.evidence, ...extra] } : verdict, traffic);
  };

  const ordered = topoSort(checks);
  const alone = (c: CheckDefinition<Ctx>) => c.needs.some((n) => n === "disruptive" || n === "may-disrupt" || n === "long");
  const normal = ordered.filter((c) => !alone(c));
  const disruptive = ordered.filter(alone);
  if (options.sequential) {
    for (const check of normal) {
      const p = runOne(check);
      done.set(check.id, p);
      await p;
    }
  } else {
    for (const check of normal) done.set(check.id, runOne(check));
    await Promise.all(normal.map((c) => done.get(c.id)));
  }
  // Disruptive checks change the lab: one at a time, with nothing else sampling.
  for (const check of disruptive) {
    const p = runOne(check);
    done.set(check.id, p);
    await p;
  }
  return ordered.map((c) => results.get(c.id)!);
}

/**
 * A check passes only when every expectation is met, and earns all its points; partial points
 * come with `fail`. The types already forbid a `pass` with credit; one that arrives anyway (a
 * cast, a plugin compiled without the types) becomes the `fail` it means, keeping its points
 * and saying so. A `fail` claiming all the points contradicts itself: the grader's bug. Credit
 * on any other outcome is dropped.
 */
export function settleCredit(verdict: Verdict): Verdict {
  const raw = (verdict as { credit?: unknown }).credit;
  const credit = typeof raw === "number" && Number.isFinite(raw) ? Math.min(1, Math.max(0, raw)) : undefined;
  if (verdict.outcome === "pass") {
    if (credit === undefined || credit >= 1) {
      const { credit: _dropped, ...rest } = verdict as Verdict & { credit?: unknown };
      return rest as Verdict;
    }
    return {
      outcome: "fail",
      message: {
        es: `${verdict.message.es} (No se cumple todo lo que pide el paso: ${Math.round(credit * 100)} % de los puntos.)`,
        en: `${verdict.message.en} (Not everything the step asks for is met: ${Math.round(credit * 100)} % of the points.)`,
      },
      fix: verdict.fix ?? { es: "Vea el mensaje: indica qué parte falta.", en: "See the message: it says which part is missing." },
      evidence: verdict.evidence,
      credit,
    };
  }
  if (verdict.outcome === "fail") {
    if (credit !== undefined && credit >= 1) {
      return {
        outcome: "error",
        message: {
          es: `Error del evaluador: la comprobación dice «fallida» y a la vez da todos los puntos. ${verdict.message.es}`,
          en: `Grader error: the check says "failed" and gives all the points at once. ${verdict.message.en}`,
        },
        fix: { es: "Informe del fallo a quien mantiene hagrade.", en: "Report the bug to hagrade's maintainers." },
        evidence: [...verdict.evidence, ev.exception({ errorKind: "credit", message: "fail with full credit" })],
      };
    }
    const { credit: _dropped, ...rest } = verdict;
    return credit === undefined || credit === 0 ? rest : { ...rest, credit };
  }
  if (raw === undefined) return verdict;
  const { credit: _dropped, ...rest } = verdict as Verdict & { credit?: unknown };
  return rest as Verdict;
}

/** A verdict of a check cut short (deadline or budget) names what the check was doing then. */
function withProgressAtCut(verdict: Verdict, doing: Text | undefined): Verdict {
  const cut = verdict.evidence.some((e) => e.kind === "deadline" || e.kind === "budget");
  if (!cut || doing === undefined || verdict.outcome !== "inconclusive") return verdict;
  return {
    ...verdict,
    message: { es: `${verdict.message.es} Se cortó en: ${doing.es}.`, en: `${verdict.message.en} Cut while: ${doing.en}.` },
    evidence: verdict.evidence.map((e) => (e.kind === "deadline" || e.kind === "budget" ? { ...e, doing } : e)),
  };
}

/** The verdict of a check cut short (inconclusive) or never started (skipped) by the run's budget. */
function budgetVerdict(outcome: "skipped" | "inconclusive"): Verdict {
  return {
    outcome,
    message:
      outcome === "skipped"
        ? { es: "No se evalúa: se agotó el tiempo total de la evaluación de este laboratorio.", en: "Not graded: this lab's total grading time ran out." }
        : { es: "Interrumpida: se agotó el tiempo total de la evaluación de este laboratorio.", en: "Cut short: this lab's total grading time ran out." },
    fix: {
      es: "Revise que la VIP y los servidores respondan con fluidez, o amplíe el presupuesto por laboratorio (--budget).",
      en: "Check that the VIP and the servers answer promptly, or raise the per-lab budget (--budget).",
    },
    evidence: [ev.budget({})],
  };
}

async function runWithDeadline<Ctx>(
  check: CheckDefinition<Ctx>,
  makeCtx: (check: CheckDefinition<Ctx>, signal: AbortSignal) => Ctx,
  timeoutMs: number,
  runSignal?: AbortSignal,
  onLinger?: (work: Promise<unknown>) => void,
): Promise<Verdict> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onRunAbort: (() => void) | undefined;
  const budget = new Promise<Verdict>((resolve) => {
    if (!runSignal) return;
    onRunAbort = () => {
      controller.abort(new Error("run budget"));
      resolve(budgetVerdict("inconclusive"));
    };
    runSignal.addEventListener("abort", onRunAbort, { once: true });
  });
  const deadline = new Promise<Verdict>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error("check deadline"));
      resolve({
        outcome: "inconclusive",
        message: {
          es: `La comprobación no terminó en ${Math.round(timeoutMs / 1000)} s.`,
          en: `The check did not finish within ${Math.round(timeoutMs / 1000)} s.`,
        },
        fix: {
          es: "Revise que la VIP y los servidores respondan; puede ampliar el plazo en timeouts del fichero de laboratorio.",
          en: "Check that the VIP and the servers answer; the deadline can be raised under timeouts in the lab spec.",
        },
        evidence: [ev.deadline({ timeoutMs })],
      });
    }, timeoutMs);
  });
  const work = Promise.resolve().then(() => check.run(makeCtx(check, controller.signal)));
  let settled = false;
  void work.then(
    () => (settled = true),
    () => (settled = true),
  );
  try {
    return await Promise.race([work, deadline, budget]);
  } catch (error) {
    return errorVerdict(error);
  } finally {
    clearTimeout(timer);
    if (onRunAbort) runSignal?.removeEventListener("abort", onRunAbort);
    // Microtask turn so a check that just finished is not reported as lingering.
    await Promise.resolve();
    if (!settled) onLinger?.(work.catch(() => undefined));
  }
}

/**
 * An exception escaping a check is the grader's trouble, not the student's: it becomes `error`.
 * Typed errors that carry bilingual text (SSH, probe) keep it; anything else is summarised
 * without a stack trace.
 */
export function errorVerdict(error: unknown): Verdict {
  if (isSshError(error)) return sshErrorVerdict(error);
  const e = error as { message?: unknown; text?: unknown; fix?: unknown; kind?: unknown; outcome?: unknown };
  const text = isText(e?.message) ? e.message : isText(e?.text) ? e.text : undefined;
  const raw = error instanceof Error ? error.message : String(error);
  const outcome: Outcome = e?.outcome === "skipped" || e?.outcome === "inconclusive" ? e.outcome : "error";
  return {
    outcome,
    message: text ?? { es: `Error del evaluador: ${raw}`, en: `Grader error: ${raw}` },
    ...(isText(e?.fix) ? { fix: e.fix } : {}),
    evidence: [ev.exception({ errorKind: typeof e?.kind === "string" ? e.kind : "unexpected", message: raw })],
  };
}


function topoSort<Ctx>(checks: CheckDefinition<Ctx>[]): CheckDefinition<Ctx>[] {
  const byId = new Map(checks.map((c) => [c.id, c]));
  const out: CheckDefinition<Ctx>[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (c: CheckDefinition<Ctx>) => {
    const s = state.get(c.id);
    if (s === "done") return;
    if (s === "visiting") throw new Error(`dependency cycle at ${c.id}`);
    state.set(c.id, "visiting");
    for (const d of c.dependsOn ?? []) {
      const dep = byId.get(d);
      if (dep) visit(dep);
    }
    state.set(c.id, "done");
    out.push(c);
  };
  checks.forEach(visit);
  return out;
}

export function outcomeWord(outcome: Outcome, lang: "es" | "en"): string {
  const words: Record<Outcome, Text> = {
    pass: { es: "superada", en: "passed" },
    fail: { es: "fallida", en: "failed" },
    inconclusive: { es: "no concluyente", en: "inconclusive" },
    error: { es: "error del evaluador", en: "grader error" },
    skipped: { es: "omitida", en: "skipped" },
  };
  return words[outcome][lang];
}

export function summarize(results: CheckResult[]): { score: number; maxScore: number; counts: Record<Outcome, number> } {
  const counts: Record<Outcome, number> = { pass: 0, fail: 0, inconclusive: 0, error: 0, skipped: 0 };
  let score = 0;
  let maxScore = 0;
  for (const r of results) {
    counts[r.outcome]++;
    score += r.points;
    maxScore += r.maxPoints;
  }
  return { score: round2(score), maxScore: round2(maxScore), counts };
}

export type { Part };

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
