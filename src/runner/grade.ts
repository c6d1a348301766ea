import type { LabSpec } from "../config/schema.js";
import { multiplex, type Reporter } from "../report/reporter.js";
import { ev, EVIDENCE_VERSION, VERSION } from "../model/index.js";
import type { Check } from "./check.js";
import { progressText, Traffic, VipHttp, type CheckContext, type RunOptions } from "./context.js";
import { detectPart } from "./detect.js";
import { runChecks, summarize } from "./runner.js";
import { CheckRemote, openSsh, type SshSetup } from "./remote.js";
import { SecretRegistry, specWithoutInlineSecrets } from "../config/secrets.js";
import { RestoreJournal, sshErrorBlame, isSshError } from "../ssh/index.js";
import { waitForNotedRejoin } from "./rejoin.js";
import type { CheckDefinition, CheckTraffic, Part, PartOption, RunResult, Text, Verdict } from "./types.js";

/**
 * The checks a run can choose from (checks/index.ts): handed to the runner rather than imported
 * by it, so the runner knows how checks run and never which ones exist.
 */
export interface Rubric {
  /** Every check, in the rubric's order. */
  all: readonly Check[];
  /** The checks that grade one part. */
  forPart(part: Part): Check[];
}

export interface GradeOptions extends RunOptions {
  rubric: Rubric;
  /** Part from the command line; overrides the spec's. */
  part?: PartOption;
  /** Only these check ids (and nothing else). */
  only?: string[];
  reporters?: Reporter[];
  /** Secret values found while loading credentials are added here, so reports can redact them. */
  secrets?: SecretRegistry;
  /** The lab's total budget (batch grading): aborting it cuts the run short, restoring what it changed. */
  signal?: AbortSignal;
  /** Run the checks strictly one after another (the bench's baseline); default: concurrently where safe. */
  sequential?: boolean;
}

/**
 * The run's restore journal: it carries the lab's own spec (a batch: the template with this
 * student's row), without inline secrets, so `hagrade restore` reaches this lab and no other.
 */
function createJournal(spec: LabSpec, options: GradeOptions): RestoreJournal {
  const kept = specWithoutInlineSecrets(spec);
  return RestoreJournal.create({
    dir: options.journalDir,
    lab: spec.lab,
    ...(options.specPath ? { specPath: options.specPath } : {}),
    spec: kept.spec,
    omittedSecrets: kept.omitted,
    source: {
      ...(options.specPath ? { specPath: options.specPath } : {}),
      ...(options.rosterPath ? { roster: options.rosterPath } : {}),
    },
  });
}

/** How long a run waits, at its end, for checks cut short to finish restoring. */
const LINGER_GRACE_MS = 60_000;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * A graded run: the result, and the files its reporters wrote. `reportsWritten` is not enumerable,
 * so the result saved as JSON (or spread into a new one) stays the versioned result schema.
 */
export type GradedRun = RunResult & { readonly reportsWritten: readonly string[] };

/**
 * Grades one lab: decides the part, runs its checks, and hands every event to the reporters,
 * the run's end included (file reporters write then); returns the result with what they wrote.
 */
export async function gradeLab(spec: LabSpec, options: GradeOptions): Promise<GradedRun> {
  const started = new Date();
  const events = multiplex(options.reporters ?? []);
  const traffic = new Traffic();
  const notes: Text[] = [];
  const runController = new AbortController();
  if (options.signal?.aborted) runController.abort();
  options.signal?.addEventListener("abort", () => runController.abort(), { once: true });
  const memo = new Map<string, Promise<unknown>>();

  const requested: PartOption = options.part ?? spec.part;
  let part: Part;
  let partSource: RunResult["partSource"] = options.part ? "cli" : "spec";
  if (requested === "auto") {
    const http = new VipHttp(spec, traffic, runController.signal, () => {});
    const detection = await detectPart(http, spec.expect.cookieName);
    notes.push(detection.reason);
    part = detection.part ?? "proxy";
    partSource = "detected";
    if (!detection.part) {
      notes.push({
        es: "Se evalúa la parte 2 (proxy). Use --part lvs o --part proxy para elegirla.",
        en: "Grading part 2 (proxy). Use --part lvs or --part proxy to choose.",
      });
    }
  } else {
    part = requested;
  }

  let checks: Check[] = options.rubric.forPart(part);
  if (options.only?.length) {
    const wanted = new Set(options.only);
    checks = options.rubric.all.filter((c) => wanted.has(c.id));
  }

  events.onBegin({
    lab: spec.lab,
    part,
    lang: options.lang,
    checks: checks.map((c) => ({ id: c.id, title: c.title })),
    startedAt: started.toISOString(),
  });

  const secrets = options.secrets ?? new SecretRegistry();
  const needsSsh = checks.some((c) => c.needs.includes("ssh") || c.needs.includes("ssh-if-given"));
  const ssh: SshSetup | undefined = needsSsh ? await openSsh(spec, secrets, options.acceptNewHostKeys) : undefined;
  // One connection attempt to the balancer, shared: if it is unreachable, every SSH check is
  // skipped with that reason instead of timing out one after another.
  const balancerReach = ssh?.ok ? ssh.pool.get("balancer").connect().then(() => undefined, (e: unknown) => e) : undefined;
  const preflightDone = (balancerReach ?? Promise.resolve()).then(() => Date.now() - started.getTime());
  let journal: RestoreJournal | undefined;
  const lingering: Promise<unknown>[] = [];
  // Each check counts what it sends; the run's totals are their sum plus the part detection's.
  const checkTraffic = new Map<string, Traffic>();
  const lastProgress = new Map<string, Text>();
  // Part 2: a previous grade's failover may have left a member out of the balancer for Apache's
  // retry; the first VIP request of the run waits for it (once), so no sample sees one server.
  let rejoinWait: Promise<void> | undefined;
  const awaitNotedRejoin = (traffic: Traffic, progress: (t: Text) => void): Promise<void> =>
    (rejoinWait ??= (async () => {
      const look = new VipHttp(spec, traffic, runController.signal, () => {});
      const waited = await waitForNotedRejoin({
        journalDir: options.journalDir,
        spec,
        signal: runController.signal,
        seen: async (victim) => {
          const r = await look.get({ retries: 0 });
          return r.ok && r.label === victim;
        },
        onWait: (victim, leftMs) => progress(progressText.waitingForNotedRejoin(victim, leftMs)),
      });
      if (waited) {
        const s = Math.round(waited.waitedMs / 1000);
        notes.push({
          es: `Antes de muestrear se esperó ${s} s a que el balanceador volviera a enviar tráfico a ${waited.victim}, parado por la conmutación de una evaluación anterior (retry= de Apache)${waited.seen ? "" : "; no se vio volver por la VIP"}.`,
          en: `Before sampling, hagrade waited ${s} s for the balancer to send ${waited.victim} traffic again, stopped by a previous grade's failover (Apache's retry=)${waited.seen ? "" : "; it was not seen back through the VIP"}.`,
        });
      }
    })());

  const makeCtx = (check: CheckDefinition<CheckContext>, signal: AbortSignal): CheckContext => {
    // A wait reports its elapsed seconds on every poll: only a changed line reaches the reporters.
    let shown: Text | undefined;
    const progress = (t: Text) => {
      if (shown && shown.es === t.es && shown.en === t.en) return;
      shown = t;
      lastProgress.set(check.id, t);
      events.onCheckProgress(check.id, t);
    };
    const own = new Traffic();
    checkTraffic.set(check.id, own);
    return {
      spec,
      lang: options.lang,
      part,
      options,
      http: new VipHttp(spec, own, signal, progress, part === "proxy" ? () => awaitNotedRejoin(own, progress) : undefined),
      ...(ssh?.ok ? { ssh: new CheckRemote(ssh.pool, own, signal) } : {}),
      journal: () => (journal ??= createJournal(spec, options)),
      signal,
      progress,
      memo: <T>(key: string, compute: () => Promise<T>) => {
        if (!memo.has(key)) memo.set(key, compute());
        return memo.get(key) as Promise<T>;
      },
    };
  };

  // What the options leave out never counts in the maximum, whatever the lab does: decided
  // before the dependencies, whose outcome depends on the lab.
  const notRequested = (check: CheckDefinition<never>): Verdict | undefined => {
    if (check.needs.includes("disruptive") && !options.disruptive) {
      return skippedVerdict({
        es: "Comprobación disruptiva (para un servidor web): se ejecuta solo con --disruptive; no cuenta en la nota.",
        en: "Disruptive check (it stops a web server): it runs only with --disruptive; it does not count in the score.",
      });
    }
    if (check.needs.includes("long") && !options.long) {
      return skippedVerdict({
        es: "Comprobación larga (espera el tiempo de persistencia completo): se ejecuta solo con --long; no cuenta en la nota.",
        en: "Long check (it waits out the whole persistence timeout): it runs only with --long; it does not count in the score.",
      });
    }
    return undefined;
  };

  const gate = async (check: CheckDefinition<never>): Promise<Verdict | undefined> => {
    if (!check.needs.includes("ssh") || !ssh) return undefined;
    if (!ssh.ok) {
      // With --interactive a person stops and starts the web server: the failover check guides them.
      if (ssh.kind === "no-ssh" && options.interactive && check.needs.includes("disruptive")) return undefined;
      return ssh.kind === "no-ssh"
        ? skippedVerdict(ssh.message)
        : { outcome: "error", message: ssh.message, ...(ssh.fix ? { fix: ssh.fix } : {}), evidence: [] };
    }
    const failure = await balancerReach;
    if (isSshError(failure) && sshErrorBlame(failure) === "lab") {
      return skippedVerdict(
        { es: `No se evalúa: el balanceador no responde por SSH (${failure.text.es})`, en: `Not graded: the balancer does not answer SSH (${failure.text.en})` },
        [ev.sshError({ error: failure.toJSON() })],
      );
    }
    return undefined;
  };

  let results;
  try {
    results = await runChecks(checks, makeCtx, {
      points: spec.rubric.points,
      defaultTimeoutMs: 120_000,
      gate,
      notRequested,
      ...(options.signal ? { signal: options.signal } : {}),
      onLinger: (work) => lingering.push(work),
      extraEvidence: (_check, ctx) => (ctx as CheckContext).ssh?.evidence() ?? [],
      progressOf: (check) => lastProgress.get(check.id),
      trafficOf: (check): CheckTraffic | undefined => {
        const own = checkTraffic.get(check.id);
        return own ? { httpRequests: own.httpRequests, sshCommands: own.sshCommands } : undefined;
      },
      ...(options.sequential ? { sequential: true } : {}),
      // Progress reaches the reporters through each check's context (its language-neutral Text).
      events: { onCheckBegin: events.onCheckBegin, onCheckEnd: events.onCheckEnd },
    });
  } finally {
    // A check cut short may still be restoring what it changed: its SSH must stay open until it
    // is done (bounded: its own restore steps have deadlines).
    if (lingering.length) await Promise.race([Promise.allSettled(lingering), delay(LINGER_GRACE_MS)]);
    if (ssh?.ok) await ssh.pool.closeAll();
  }

  const { score, maxScore, counts } = summarize(results);
  for (const own of checkTraffic.values()) {
    traffic.httpRequests += own.httpRequests;
    traffic.sshCommands += own.sshCommands;
  }
  const preflightMs = await preflightDone;
  const result: RunResult = {
    schemaVersion: 1,
    evidenceVersion: EVIDENCE_VERSION,
    tool: { name: "hagrade", version: VERSION },
    lab: spec.lab,
    ...(spec.student ? { student: spec.student } : {}),
    part,
    partSource,
    lang: options.lang,
    startedAt: started.toISOString(),
    durationMs: Date.now() - started.getTime(),
    score,
    maxScore,
    counts,
    traffic: { httpRequests: traffic.httpRequests, sshCommands: traffic.sshCommands },
    preflightMs,
    notes,
    checks: results,
  };
  const written = await events.onEnd(result);
  return Object.defineProperty(result, "reportsWritten", { value: Object.freeze([...written]), enumerable: false }) as GradedRun;
}

function skippedVerdict(message: Text, evidence: Verdict["evidence"] = []): Verdict {
  return { outcome: "skipped", message, evidence };
}
