/**
 * Disruptive steps that leave a student's machine as they found it (stop a web server, change a
 * page), also when the check throws, times out, or the grader is interrupted: `withRestore`
 * journals the step (journal.ts) before it changes anything, and undoes and verifies it in every
 * case; SIGINT/SIGTERM undo what is in progress before the process exits.
 */
import type { Text } from "../model/index.js";
import { SshError, type SshErrorKind } from "./errors.js";
import { describeTarget, type BeforeState, type JournalEntry, type JournalTarget, type RestoreJournal, type RestoreStatus } from "./journal.js";
import type { ExecResult, SshHost, SshPool } from "./pool.js";

/** One command as the report keeps it (stderr clipped; stdout is the caller's business). */
export interface CommandSummary {
  command: string;
  code: number | null;
  durationMs: number;
  stderr?: string;
  error?: SshErrorKind;
}

/** What is left for a person to do on a machine when the grader could not restore it. */
export interface ManualRestore {
  host: string;
  address: string;
  description: Text;
  /** Run in order as root (sudo -n when `sudo`); the last one exits 0 once restored. */
  commands: string[];
  sudo: boolean;
  text: Text;
}

export interface RestoreReport {
  journalFile: string;
  entryId?: string;
  host: string;
  address: string;
  description: Text;
  /**
   * "not-started": nothing was changed (the state before could not be read, the journal not
   * written); "refused": a replay did not run because the machine at hand is not the one the
   * change was made on (`refused` says why).
   */
  status: RestoreStatus | "not-started" | "refused";
  refused?: Text;
  /** The machine is as it was: verified, or never changed. */
  restored: boolean;
  before?: BeforeState;
  change?: CommandSummary;
  undo: CommandSummary[];
  verify: CommandSummary[];
  leftToDo?: ManualRestore;
}

export interface RestoreStep {
  /** Target name in the pool. */
  host: string;
  description: Text;
  /** Read-only command whose output is recorded as the state seen before the change. */
  before?: string;
  change: string;
  undo: string;
  /** Exits 0 when the machine is as before; retried with backoff (a web server takes a moment). */
  verify: string;
  /** Commands need root (default true: disruptive commands do). */
  sudo?: boolean;
  /** Bound on the body; on expiry the body is aborted (its signal) and the undo runs. */
  timeoutMs?: number;
  /** Bound on each of the step's commands (default: the pool's). */
  execTimeoutMs?: number;
  /** Verify attempts (default 6) and first delay between them (default 500 ms, doubling, capped at 4 s). */
  verifyAttempts?: number;
  verifyDelayMs?: number;
}

/** Why the body did not run or did not finish (the `error` of a RestoreOutcome, besides SshError and the body's own). */
export class RestoreStepError extends Error {
  override readonly name = "RestoreStepError";
  constructor(
    readonly kind: "change-failed" | "body-timeout" | "journal-unwritable" | "unknown-host",
    readonly text: Text,
    readonly result?: ExecResult,
  ) {
    super(text.en);
  }
}

export interface RestoreContext {
  journal: RestoreJournal;
  pool: SshPool;
}

/**
 * Never throws: `value` is the body's result; `error` what went wrong (SshError, RestoreStepError,
 * or whatever the body threw); `restore` whether the machine was put back.
 */
export interface RestoreOutcome<T> {
  value?: T;
  error?: unknown;
  restore: RestoreReport;
}

export interface RestoreTuning {
  verifyAttempts: number;
  verifyDelayMs: number;
  execTimeoutMs?: number;
  /** Verify before undoing: when it is unknown whether the change happened. */
  verifyFirst: boolean;
}

const UNDO_ATTEMPTS = 3;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function summary(command: string, outcome: { ok: true; result: ExecResult } | { ok: false; error: SshError }): CommandSummary {
  if (outcome.ok) {
    const stderr = outcome.result.stderr.trim();
    return {
      command,
      code: outcome.result.code,
      durationMs: outcome.result.durationMs,
      ...(stderr ? { stderr: stderr.slice(0, 500) } : {}),
    };
  }
  return { command, code: null, durationMs: 0, error: outcome.error.kind };
}

export function manualRestore(entry: JournalEntry): ManualRestore {
  const as = entry.sudo ? " (como root)" : "";
  const asEn = entry.sudo ? " (as root)" : "";
  // The whole machine (jump host and keys included): the same internal address exists in every lab.
  const where = entry.target ? describeTarget(entry.target) : entry.address;
  return {
    host: entry.host,
    address: where,
    description: entry.description,
    commands: [entry.undo, entry.verify],
    sudo: entry.sudo,
    text: {
      es: `Restaura ${entry.host} (${where}) a mano${as}: ejecuta \`${entry.undo}\` y comprueba con \`${entry.verify}\` (debe salir con 0). Cambio hecho: ${entry.description.es}`,
      en: `Restore ${entry.host} (${where}) by hand${asEn}: run \`${entry.undo}\` and check with \`${entry.verify}\` (it must exit 0). Change made: ${entry.description.en}`,
    },
  };
}

export function emptyReport(journal: RestoreJournal, entry: JournalEntry): RestoreReport {
  return {
    journalFile: journal.file,
    entryId: entry.id,
    host: entry.host,
    address: entry.address,
    description: entry.description,
    status: entry.status,
    restored: false,
    ...(entry.before ? { before: entry.before } : {}),
    undo: [],
    verify: [],
  };
}

/** Undo (until it exits 0, a few times) then verify with backoff; journals every step. */
export async function restoreEntry(journal: RestoreJournal, entry: JournalEntry, host: SshHost | undefined, report: RestoreReport, tuning: RestoreTuning): Promise<RestoreReport> {
  const finish = (): RestoreReport => {
    report.status = entry.status;
    report.restored = entry.status === "verified";
    if (!report.restored) report.leftToDo = manualRestore(entry);
    else delete report.leftToDo;
    return report;
  };
  const mark = (status: RestoreStatus, note?: string): void => {
    try {
      journal.mark(entry, status, note);
    } catch {
      // The restore itself matters more than its bookkeeping; the entry stays as last written.
      entry.status = status;
    }
  };
  if (!host) {
    mark("failed", `no ssh target named ${entry.host}`);
    return finish();
  }
  const execOptions = { sudo: entry.sudo, ...(tuning.execTimeoutMs !== undefined ? { timeoutMs: tuning.execTimeoutMs } : {}) };
  const verifyOnce = async (): Promise<boolean> => {
    const outcome = await host.tryExec(entry.verify, execOptions);
    report.verify.push(summary(entry.verify, outcome));
    return outcome.ok && outcome.result.code === 0;
  };

  if (tuning.verifyFirst && (await verifyOnce())) {
    mark("verified", "already as before");
    return finish();
  }
  let lastProblem = "";
  for (let attempt = 1; attempt <= UNDO_ATTEMPTS; attempt++) {
    const outcome = await host.tryExec(entry.undo, execOptions);
    report.undo.push(summary(entry.undo, outcome));
    if (outcome.ok && outcome.result.code === 0) {
      mark("undone");
      lastProblem = "";
      break;
    }
    lastProblem = outcome.ok ? `undo exited ${String(outcome.result.code)}` : `undo: ${outcome.error.kind}`;
    if (attempt < UNDO_ATTEMPTS) await sleep(tuning.verifyDelayMs * attempt);
  }
  // Verify even after a failed undo: the machine may be fine (the change may never have landed).
  let delay = tuning.verifyDelayMs;
  for (let attempt = 1; attempt <= tuning.verifyAttempts; attempt++) {
    if (await verifyOnce()) {
      mark("verified");
      return finish();
    }
    if (attempt < tuning.verifyAttempts) {
      await sleep(delay);
      delay = Math.min(delay * 2, 4000);
    }
  }
  const last = report.verify.at(-1);
  mark("failed", [lastProblem, last ? `verify ${last.error ?? `exited ${String(last.code)}`}` : ""].filter(Boolean).join("; "));
  return finish();
}

// ---- process-wide registry: undo on SIGINT/SIGTERM ------------------------------------------

interface ActiveRestore {
  run(): Promise<RestoreReport>;
}

const active = new Set<ActiveRestore>();
const SIGNAL_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
let signalsInstalled = false;
let exiting = false;
let exitFn: (code: number) => void = (code) => process.exit(code);
let signalBoundMs = 60_000;

export interface RestoreSignalOptions {
  /** How the process ends after restoring (default process.exit). */
  exit?: (code: number) => void;
  /** Bound on restoring at a signal before exiting anyway (default 60 s). */
  boundMs?: number;
}

/** Changes how an interrupted run ends (a CLI may want to write its report first). */
export function configureRestoreSignals(options: RestoreSignalOptions): void {
  if (options.exit) exitFn = options.exit;
  if (options.boundMs !== undefined) signalBoundMs = options.boundMs;
}

/** Restores in progress in this process (for tests and diagnostics). */
export function activeRestoreCount(): number {
  return active.size;
}

function onSignal(signal: NodeJS.Signals): void {
  const code = SIGNAL_CODES[signal] ?? 1;
  if (exiting) {
    // A second interrupt: leave now; the journal stays on disk for `hagrade restore`.
    exitFn(code);
    return;
  }
  exiting = true;
  const bound = setTimeout(() => exitFn(code), signalBoundMs);
  void Promise.allSettled([...active].map((a) => a.run())).then(() => {
    clearTimeout(bound);
    exitFn(code);
  });
}

const handledSignals = (): NodeJS.Signals[] => (process.platform === "win32" ? ["SIGINT", "SIGTERM"] : ["SIGINT", "SIGTERM", "SIGHUP"]);

function register(restore: ActiveRestore): void {
  active.add(restore);
  if (!signalsInstalled) {
    for (const s of handledSignals()) process.on(s, onSignal);
    signalsInstalled = true;
  }
}

function unregister(restore: ActiveRestore): void {
  active.delete(restore);
  if (active.size === 0 && signalsInstalled && !exiting) {
    for (const s of handledSignals()) process.off(s, onSignal);
    signalsInstalled = false;
  }
}

/** The machine `name` of the pool as a journal records it: address, user, key, and its jump's. */
export function journalTarget(pool: SshPool, name: string, depth = 0): JournalTarget {
  const host = pool.get(name);
  const { target } = host;
  const fingerprint = host.hostKey?.fingerprint;
  return {
    name,
    user: target.user,
    host: target.host,
    port: target.port,
    ...(fingerprint ? { fingerprint } : {}),
    ...(target.jump !== undefined && depth < 4 ? { via: journalTarget(pool, target.jump, depth + 1) } : {}),
  };
}

/**
 * Changes a lab machine for the time of `body`, and puts it back in every case.
 * Order: `before` (read) → journal written (pending) → `change` (applied) → body → `undo`
 * (undone) → `verify` with backoff (verified | failed). When the change fails, the body does not
 * run and the machine is verified (then undone if needed), since the change may have half landed.
 * SIGINT/SIGTERM while active: the undo runs, then the process exits 130/143.
 */
export async function withRestore<T>(
  ctx: RestoreContext,
  step: RestoreStep,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<RestoreOutcome<T>> {
  const sudo = step.sudo ?? true;
  const execOptions = { sudo, ...(step.execTimeoutMs !== undefined ? { timeoutMs: step.execTimeoutMs } : {}) };
  const notStarted = (address: string, error: unknown, before?: BeforeState): RestoreOutcome<T> => ({
    error,
    restore: {
      journalFile: ctx.journal.file,
      host: step.host,
      address,
      description: step.description,
      status: "not-started",
      restored: true,
      ...(before ? { before } : {}),
      undo: [],
      verify: [],
    },
  });
  if (!ctx.pool.has(step.host)) {
    return notStarted("", new RestoreStepError("unknown-host", { es: `No hay acceso SSH a ${step.host}.`, en: `There is no SSH access to ${step.host}.` }));
  }
  const host = ctx.pool.get(step.host);
  // Connected first, so the journal names the machine by the key it presented (and its jump's).
  try {
    await host.connect();
  } catch (error) {
    if (error instanceof SshError) return notStarted(host.address, error);
    throw error;
  }

  let before: BeforeState | undefined;
  if (step.before !== undefined) {
    const outcome = await host.tryExec(step.before, execOptions);
    if (!outcome.ok) return notStarted(host.address, outcome.error);
    before = { command: step.before, code: outcome.result.code, stdout: outcome.result.stdout.slice(0, 4000) };
  }

  let entry: JournalEntry;
  try {
    entry = ctx.journal.add({
      host: step.host,
      address: host.address,
      target: journalTarget(ctx.pool, step.host),
      description: step.description,
      ...(before ? { before } : {}),
      change: step.change,
      undo: step.undo,
      verify: step.verify,
      sudo,
    });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    return notStarted(
      host.address,
      new RestoreStepError("journal-unwritable", {
        es: `No se pudo escribir el diario de restauración ${ctx.journal.file} (${reason}); no se ha cambiado nada.`,
        en: `Could not write the restore journal ${ctx.journal.file} (${reason}); nothing was changed.`,
      }),
      before,
    );
  }

  const report = emptyReport(ctx.journal, entry);
  let verifyFirst = false;
  let running: Promise<RestoreReport> | undefined;
  const restore: ActiveRestore = {
    run: () =>
      (running ??= restoreEntry(ctx.journal, entry, host, report, {
        verifyAttempts: step.verifyAttempts ?? 6,
        verifyDelayMs: step.verifyDelayMs ?? 500,
        verifyFirst,
        ...(step.execTimeoutMs !== undefined ? { execTimeoutMs: step.execTimeoutMs } : {}),
      })),
  };
  register(restore);

  let value: T | undefined;
  let failure: unknown;
  let failed = false;
  try {
    const changed = await host.tryExec(step.change, execOptions);
    report.change = summary(step.change, changed);
    if (!changed.ok) {
      failed = true;
      failure = changed.error;
      verifyFirst = true;
    } else if (changed.result.code !== 0) {
      failed = true;
      verifyFirst = true;
      const said = changed.result.stderr.trim().split("\n")[0] ?? "";
      failure = new RestoreStepError(
        "change-failed",
        {
          es: `El cambio en ${step.host} falló (código ${String(changed.result.code)}${said ? `: ${said}` : ""}): ${step.change}`,
          en: `The change on ${step.host} failed (exit ${String(changed.result.code)}${said ? `: ${said}` : ""}): ${step.change}`,
        },
        changed.result,
      );
    } else {
      try {
        ctx.journal.mark(entry, "applied");
      } catch {
        // Still pending on disk, which replays just as safely (verify first, then undo).
      }
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const deadline =
        step.timeoutMs === undefined
          ? undefined
          : new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                controller.abort();
                reject(
                  new RestoreStepError("body-timeout", {
                    es: `La comprobación no terminó en ${step.timeoutMs} ms con ${step.host} cambiado; se ha restaurado.`,
                    en: `The check did not finish within ${step.timeoutMs} ms while ${step.host} was changed; it was restored.`,
                  }),
                );
              }, step.timeoutMs);
            });
      try {
        const work = Promise.resolve().then(() => body(controller.signal));
        value = await (deadline ? Promise.race([work, deadline]) : work);
      } catch (error) {
        failed = true;
        failure = error;
        controller.abort();
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    await restore.run();
    unregister(restore);
  }
  return failed ? { error: failure, restore: report } : { value: value as T, restore: report };
}

