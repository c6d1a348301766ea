/**
 * The restore journal: a disruptive check (stop a web server, change a page) leaves a student's
 * machine as it found it, also when the check throws, times out, or the grader is interrupted.
 *
 * Before anything changes, the step (host, description, state seen before, change/undo/verify
 * commands) is written to a JSON file and fsynced. A journal file exists exactly while something
 * on a lab machine may still need restoring: it is deleted once every entry is verified, so what
 * `listPendingJournals` finds is what `hagrade restore` has to finish (after kill -9, a power cut).
 * Journal files hold commands and host names only, never credentials.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Text } from "../model/index.js";
import { SshError, type SshErrorKind } from "./errors.js";
import type { ExecResult, SshHost, SshPool } from "./pool.js";

export type RestoreStatus = "pending" | "applied" | "undone" | "verified" | "failed";

export interface BeforeState {
  command: string;
  code: number | null;
  stdout: string;
}

export interface JournalEntry {
  id: string;
  /** Target name in the pool ("webserver1"). */
  host: string;
  /** user@host:port (via jump), for a person restoring by hand. */
  address: string;
  description: Text;
  before?: BeforeState;
  change: string;
  undo: string;
  /** Exit 0 means the machine is as before. */
  verify: string;
  sudo: boolean;
  status: RestoreStatus;
  history: { status: RestoreStatus; at: string; note?: string }[];
}

export interface JournalDocument {
  format: "hagrade-restore-journal";
  version: 1;
  lab: string;
  specPath?: string;
  createdAt: string;
  updatedAt: string;
  /** The grader process that wrote it, to tell an abandoned journal from a running one. */
  pid: number;
  hostname: string;
  entries: JournalEntry[];
}

const FORMAT = "hagrade-restore-journal";
const SUFFIX = ".journal.json";

function isFinished(entry: JournalEntry): boolean {
  return entry.status === "verified";
}

function writeDurably(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  try {
    // The rename itself must survive a crash too; directories cannot be opened on Windows.
    const dirFd = openSync(path.dirname(file), "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // best effort
  }
}

export interface RestoreJournalOptions {
  /** Folder of journal files, e.g. reports/.journal. */
  dir: string;
  lab: string;
  specPath?: string;
}

/** One grader run's journal (or a loaded one being replayed). */
export class RestoreJournal {
  readonly file: string;
  private readonly doc: JournalDocument;
  private nextId = 1;

  private constructor(file: string, doc: JournalDocument) {
    this.file = file;
    this.doc = doc;
    this.nextId = doc.entries.reduce((max, e) => Math.max(max, Number(e.id) || 0), 0) + 1;
  }

  /** A journal for a new run; its file appears with the first entry. */
  static create(options: RestoreJournalOptions): RestoreJournal {
    const lab = options.lab.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64) || "lab";
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
    const file = path.resolve(options.dir, `${lab}-${stamp}-${process.pid}-${Math.random().toString(36).slice(2, 6)}${SUFFIX}`);
    const now = new Date().toISOString();
    return new RestoreJournal(file, {
      format: FORMAT,
      version: 1,
      lab: options.lab,
      ...(options.specPath !== undefined ? { specPath: options.specPath } : {}),
      createdAt: now,
      updatedAt: now,
      pid: process.pid,
      hostname: os.hostname(),
      entries: [],
    });
  }

  /** Reads a journal file; throws an Error naming the file when it is not one. */
  static load(file: string): RestoreJournal {
    const doc = JSON.parse(readFileSync(file, "utf8")) as Partial<JournalDocument>;
    if (doc.format !== FORMAT || doc.version !== 1 || !Array.isArray(doc.entries) || typeof doc.lab !== "string") {
      throw new Error(`${file} is not a hagrade restore journal`);
    }
    return new RestoreJournal(path.resolve(file), doc as JournalDocument);
  }

  get lab(): string {
    return this.doc.lab;
  }

  get specPath(): string | undefined {
    return this.doc.specPath;
  }

  get document(): Readonly<JournalDocument> {
    return this.doc;
  }

  get entries(): readonly JournalEntry[] {
    return this.doc.entries;
  }

  /** Entries not yet verified (pending, applied, undone or failed). */
  unfinished(): JournalEntry[] {
    return this.doc.entries.filter((e) => !isFinished(e));
  }

  /** Whether the journal's file is on disk (something may need restoring). */
  get onDisk(): boolean {
    return this.unfinished().length > 0;
  }

  private flush(): void {
    this.doc.updatedAt = new Date().toISOString();
    if (this.unfinished().length === 0) {
      rmSync(this.file, { force: true });
      return;
    }
    mkdirSync(path.dirname(this.file), { recursive: true });
    writeDurably(this.file, `${JSON.stringify(this.doc, null, 2)}\n`);
  }

  /** Records a step as pending and fsyncs it: call before changing anything. */
  add(entry: Omit<JournalEntry, "id" | "status" | "history">): JournalEntry {
    const full: JournalEntry = {
      ...entry,
      id: String(this.nextId++),
      status: "pending",
      history: [{ status: "pending", at: new Date().toISOString() }],
    };
    this.doc.entries.push(full);
    try {
      this.flush();
    } catch (error) {
      this.doc.entries.pop();
      throw error;
    }
    return full;
  }

  mark(entry: JournalEntry, status: RestoreStatus, note?: string): void {
    entry.status = status;
    entry.history.push({ status, at: new Date().toISOString(), ...(note ? { note } : {}) });
    this.flush();
  }
}

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
  /** "not-started": nothing was changed (the state before could not be read, the journal not written). */
  status: RestoreStatus | "not-started";
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

interface RestoreTuning {
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

function manualRestore(entry: JournalEntry): ManualRestore {
  const as = entry.sudo ? " (como root)" : "";
  const asEn = entry.sudo ? " (as root)" : "";
  return {
    host: entry.host,
    address: entry.address,
    description: entry.description,
    commands: [entry.undo, entry.verify],
    sudo: entry.sudo,
    text: {
      es: `Restaura ${entry.host} (${entry.address}) a mano${as}: ejecuta \`${entry.undo}\` y comprueba con \`${entry.verify}\` (debe salir con 0). Cambio hecho: ${entry.description.es}`,
      en: `Restore ${entry.host} (${entry.address}) by hand${asEn}: run \`${entry.undo}\` and check with \`${entry.verify}\` (it must exit 0). Change made: ${entry.description.en}`,
    },
  };
}

function emptyReport(journal: RestoreJournal, entry: JournalEntry): RestoreReport {
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
async function restoreEntry(journal: RestoreJournal, entry: JournalEntry, host: SshHost | undefined, report: RestoreReport, tuning: RestoreTuning): Promise<RestoreReport> {
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

// ---- after a crash ---------------------------------------------------------------------------

export interface PendingJournal {
  file: string;
  lab: string;
  specPath?: string;
  createdAt: string;
  pid: number;
  hostname: string;
  /** The writing grader is still running on this machine (do not replay under it). */
  writerAlive: boolean;
  entries: JournalEntry[];
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function writerAlive(doc: Readonly<JournalDocument>): boolean {
  return doc.hostname === os.hostname() && doc.pid !== process.pid && processAlive(doc.pid);
}

/** Journals in `dir` with something left to restore, oldest first. A missing folder has none. */
export function listPendingJournals(dir: string): PendingJournal[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: PendingJournal[] = [];
  for (const name of names.filter((n) => n.endsWith(SUFFIX))) {
    let journal: RestoreJournal;
    try {
      journal = RestoreJournal.load(path.join(dir, name));
    } catch {
      continue;
    }
    const entries = journal.unfinished();
    if (entries.length === 0) continue;
    const doc = journal.document;
    out.push({
      file: journal.file,
      lab: doc.lab,
      ...(doc.specPath !== undefined ? { specPath: doc.specPath } : {}),
      createdAt: doc.createdAt,
      pid: doc.pid,
      hostname: doc.hostname,
      writerAlive: writerAlive(doc),
      entries,
    });
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

export interface ReplayReport {
  file: string;
  lab: string;
  specPath?: string;
  /** Every entry is verified now; the journal file is gone. */
  complete: boolean;
  /** Set when nothing was done because the run that wrote the journal is still alive. */
  writerAlive?: boolean;
  entries: RestoreReport[];
  /** Per machine, what a person still has to run. */
  leftToDo: ManualRestore[];
}

export interface ReplayOptions {
  /** Replay even when the writing process still seems alive. */
  force?: boolean;
  verifyAttempts?: number;
  verifyDelayMs?: number;
  execTimeoutMs?: number;
}

/**
 * Finishes what an interrupted run left: for each unfinished entry, verify first (the change may
 * never have happened, or been undone already), else undo and verify with backoff.
 * Never throws for a machine that cannot be reached: that entry is returned in `leftToDo`.
 */
export async function replayJournal(file: string, pool: SshPool, options: ReplayOptions = {}): Promise<ReplayReport> {
  const journal = RestoreJournal.load(file);
  const doc = journal.document;
  const base = { file: journal.file, lab: doc.lab, ...(doc.specPath !== undefined ? { specPath: doc.specPath } : {}) };
  if (!options.force && writerAlive(doc)) {
    return { ...base, complete: false, writerAlive: true, entries: [], leftToDo: [] };
  }
  const entries: RestoreReport[] = [];
  for (const entry of journal.unfinished()) {
    const host = pool.has(entry.host) ? pool.get(entry.host) : undefined;
    entries.push(
      await restoreEntry(journal, entry, host, emptyReport(journal, entry), {
        verifyAttempts: options.verifyAttempts ?? 6,
        verifyDelayMs: options.verifyDelayMs ?? 500,
        verifyFirst: true,
        ...(options.execTimeoutMs !== undefined ? { execTimeoutMs: options.execTimeoutMs } : {}),
      }),
    );
  }
  const leftToDo = entries.flatMap((r) => (r.leftToDo ? [r.leftToDo] : []));
  return { ...base, complete: journal.unfinished().length === 0, entries, leftToDo };
}
