/**
 * The restore journal's storage: one JSON file per grader run, holding every disruptive step
 * (the machine it was made on, the state seen before, change/undo/verify commands) before the step
 * changes anything. A journal file exists exactly while something on a lab machine may still need
 * restoring: it is deleted once every entry is verified, so what `listPendingJournals` finds is
 * what `hagrade restore` has to finish (after kill -9, a power cut).
 *
 * A write is trusted only once it is whole on disk: every byte written, fsynced, renamed into
 * place and read back equal. A journal that cannot be read is still listed (with its path and the
 * reason), never skipped. Journal files hold commands, host names and fingerprints only, never
 * credentials (secrets written inline in a spec are left out of the spec kept here).
 */
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Text } from "../model/index.js";

export type RestoreStatus = "pending" | "applied" | "undone" | "verified" | "failed";

export interface BeforeState {
  command: string;
  code: number | null;
  stdout: string;
}

/**
 * The machine a change was made on, fully resolved: a replay goes to this machine or nowhere.
 * `via` is the jump host it was reached through (with its own address and key).
 */
export interface JournalTarget {
  /** Target name in the pool ("webserver1"). */
  name: string;
  user: string;
  host: string;
  port: number;
  /** Host key fingerprint ("SHA256:...") the machine presented when the change was made. */
  fingerprint?: string;
  via?: JournalTarget;
}

/** "root@10.221.0.11:22 via root@10.220.1.1:22 (SHA256:...)": the machine, for people. */
export function describeTarget(target: JournalTarget, withKeys = true): string {
  const key = withKeys && target.fingerprint ? ` (${target.fingerprint})` : "";
  const via = target.via ? ` via ${describeTarget(target.via, withKeys)}` : "";
  return `${target.user}@${target.host}:${target.port}${key}${via}`;
}

export interface JournalEntry {
  id: string;
  /** Target name in the pool ("webserver1"). */
  host: string;
  /** user@host:port (via jump), for a person restoring by hand. */
  address: string;
  /** Where the change was made (absent in journals of version 1). */
  target?: JournalTarget;
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

/** Where the run's spec came from, so `hagrade restore` can find the credentials again. */
export interface JournalSource {
  /** The spec file (a batch: the course's template, or the row's own spec). */
  specPath?: string;
  /** A batch: the roster whose row (`lab`) overrode the template. */
  roster?: string;
}

export interface JournalDocument {
  format: "hagrade-restore-journal";
  version: 1 | 2;
  lab: string;
  specPath?: string;
  /**
   * The lab's spec as it was graded (a batch: this student's own, with the roster's fields), as
   * plain JSON; secrets written inline are left out and named in `omittedSecrets`.
   */
  spec?: unknown;
  omittedSecrets?: string[];
  source?: JournalSource;
  createdAt: string;
  updatedAt: string;
  /** The grader process that wrote it, to tell an abandoned journal from a running one. */
  pid: number;
  hostname: string;
  entries: JournalEntry[];
}

const FORMAT = "hagrade-restore-journal";
export const JOURNAL_SUFFIX = ".journal.json";
/** A journal holds a few steps; more than this is not a journal (and must not exhaust memory). */
const MAX_JOURNAL_BYTES = 8 * 1024 * 1024;

function isFinished(entry: JournalEntry): boolean {
  return entry.status === "verified";
}

/** An error with a code, like the ones of node:fs, for a write that did not land whole. */
function ioError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

/** writeSync may write less than asked (a full disk, a file size limit): loop until all is written. */
function writeFully(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (written <= 0) throw ioError("EIO", `wrote ${offset} of ${bytes.length} bytes`);
    offset += written;
  }
}

/**
 * Replaces `file` with `text` so that a crash leaves either the old or the new content: a
 * temporary file written whole, fsynced and read back equal, then renamed over, the folder fsynced.
 * Throws (code EFBIG, ENOSPC, EIO, ESHORT...) when any of it fails.
 */
export function writeDurably(file: string, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  const tmp = `${file}.tmp`;
  try {
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeFully(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // Read back before it replaces anything: the file in place is always a whole journal.
    const back = readFileSync(tmp);
    if (!back.equals(bytes)) throw ioError("ESHORT", `${tmp} reads back ${back.length} bytes of the ${bytes.length} written`);
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
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
  /** The spec as graded, plain JSON without inline secrets (see JournalDocument.spec). */
  spec?: unknown;
  omittedSecrets?: string[];
  source?: JournalSource;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTarget(value: unknown, depth = 0): value is JournalTarget {
  if (!isRecord(value) || depth > 4) return false;
  return (
    typeof value.name === "string" &&
    typeof value.user === "string" &&
    typeof value.host === "string" &&
    typeof value.port === "number" &&
    (value.fingerprint === undefined || typeof value.fingerprint === "string") &&
    (value.via === undefined || isTarget(value.via, depth + 1))
  );
}

function isEntry(value: unknown): value is JournalEntry {
  if (!isRecord(value)) return false;
  const text = (t: unknown) => isRecord(t) && typeof t.es === "string" && typeof t.en === "string";
  return (
    typeof value.id === "string" &&
    typeof value.host === "string" &&
    typeof value.address === "string" &&
    (value.target === undefined || isTarget(value.target)) &&
    text(value.description) &&
    typeof value.change === "string" &&
    typeof value.undo === "string" &&
    typeof value.verify === "string" &&
    typeof value.sudo === "boolean" &&
    ["pending", "applied", "undone", "verified", "failed"].includes(value.status as string) &&
    Array.isArray(value.history)
  );
}

/** One grader run's journal (or a loaded one being replayed). */
export class RestoreJournal {
  readonly file: string;
  private readonly doc: JournalDocument;
  private nextId = 1;
  private remembered = false;

  private constructor(file: string, doc: JournalDocument) {
    this.file = file;
    this.doc = doc;
    this.nextId = doc.entries.reduce((max, e) => Math.max(max, Number(e.id) || 0), 0) + 1;
  }

  /** A journal for a new run; its file appears with the first entry. */
  static create(options: RestoreJournalOptions): RestoreJournal {
    const lab = options.lab.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 64) || "lab";
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "");
    const file = path.resolve(options.dir, `${lab}-${stamp}-${process.pid}-${Math.random().toString(36).slice(2, 6)}${JOURNAL_SUFFIX}`);
    const now = new Date().toISOString();
    return new RestoreJournal(file, {
      format: FORMAT,
      version: 2,
      lab: options.lab,
      ...(options.specPath !== undefined ? { specPath: options.specPath } : {}),
      ...(options.spec !== undefined ? { spec: options.spec } : {}),
      ...(options.omittedSecrets?.length ? { omittedSecrets: options.omittedSecrets } : {}),
      ...(options.source ? { source: options.source } : {}),
      createdAt: now,
      updatedAt: now,
      pid: process.pid,
      hostname: os.hostname(),
      entries: [],
    });
  }

  /** Reads a journal file; throws an Error naming the file and what is wrong with it. */
  static load(file: string): RestoreJournal {
    const size = statSync(file).size;
    if (size > MAX_JOURNAL_BYTES) throw new Error(`${file} holds ${size} bytes: not a hagrade restore journal`);
    let doc: Partial<JournalDocument>;
    try {
      doc = JSON.parse(readFileSync(file, "utf8")) as Partial<JournalDocument>;
    } catch (error) {
      throw new Error(`${file} is not readable JSON (${(error as Error).message}): it was cut short or damaged`);
    }
    if (!isRecord(doc) || doc.format !== FORMAT || (doc.version !== 1 && doc.version !== 2) || !Array.isArray(doc.entries) || typeof doc.lab !== "string") {
      throw new Error(`${file} is not a hagrade restore journal`);
    }
    const bad = doc.entries.findIndex((e) => !isEntry(e));
    if (bad >= 0) throw new Error(`${file}: entry ${bad + 1} is damaged`);
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
    const dir = path.dirname(this.file);
    mkdirSync(dir, { recursive: true });
    writeDurably(this.file, `${JSON.stringify(this.doc, null, 2)}\n`);
    if (!this.remembered) {
      this.remembered = true;
      rememberJournalDir(dir);
    }
  }

  /** Records a step as pending, whole on disk (read back): call before changing anything. */
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
      this.nextId -= 1;
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

// ---- where journals are -----------------------------------------------------------------------

/**
 * hagrade's own state folder: HAGRADE_STATE_DIR, else $XDG_STATE_HOME/hagrade (~/.local/state),
 * %LOCALAPPDATA%\hagrade on Windows.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HAGRADE_STATE_DIR) return path.resolve(env.HAGRADE_STATE_DIR);
  if (process.platform === "win32") return path.join(env.LOCALAPPDATA || path.join(os.homedir(), "AppData", "Local"), "hagrade");
  return path.join(env.XDG_STATE_HOME || path.join(os.homedir(), ".local", "state"), "hagrade");
}

const DIRS_FILE = "journal-dirs";
const MAX_REMEMBERED = 200;

/**
 * Notes a folder where a journal was written (a batch writes to <out>/.journal), so a later
 * `hagrade restore` without flags finds it. Best effort: grading never fails over this list.
 */
export function rememberJournalDir(dir: string, env: NodeJS.ProcessEnv = process.env): void {
  const absolute = path.resolve(dir);
  try {
    if (knownJournalDirs(env).includes(absolute)) return;
    mkdirSync(stateDir(env), { recursive: true, mode: 0o700 });
    appendFileSync(path.join(stateDir(env), DIRS_FILE), `${absolute}\n`, { mode: 0o600 });
  } catch {
    // The journal itself is written; only the reminder of where is lost.
  }
}

/** Every folder journals were written to (newest last), as remembered; missing folders left out. */
export function knownJournalDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  let text: string;
  try {
    text = readFileSync(path.join(stateDir(env), DIRS_FILE), "utf8");
  } catch {
    return [];
  }
  const dirs = [...new Set(text.split("\n").map((l) => l.trim()).filter((l) => path.isAbsolute(l)))].slice(-MAX_REMEMBERED);
  return dirs.filter((d) => {
    try {
      return statSync(d).isDirectory();
    } catch {
      return false;
    }
  });
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
  /**
   * Set when the file cannot be read (cut short, damaged): something may still need restoring
   * there, by hand. `lab` is then taken from the file's name.
   */
  unreadable?: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function writerAlive(doc: Readonly<JournalDocument>): boolean {
  return doc.hostname === os.hostname() && doc.pid !== process.pid && processAlive(doc.pid);
}

/** The lab a journal's file name starts with (RestoreJournal.create names it so). */
function labOfFileName(name: string): string {
  return name.slice(0, -JOURNAL_SUFFIX.length).replace(/-\d{8}T\d{6}-\d+-[a-z0-9]{1,4}$/, "");
}

/**
 * Journals in `dir` with something left to restore, oldest first, and journals that cannot be
 * read (listed with `unreadable`: they may hold a change nobody can replay). A missing folder has none.
 */
export function listPendingJournals(dir: string): PendingJournal[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: PendingJournal[] = [];
  for (const name of names.filter((n) => n.endsWith(JOURNAL_SUFFIX))) {
    const file = path.resolve(dir, name);
    let journal: RestoreJournal;
    try {
      journal = RestoreJournal.load(file);
    } catch (error) {
      let createdAt = "";
      try {
        createdAt = statSync(file).mtime.toISOString();
      } catch {
        continue;
      }
      out.push({ file, lab: labOfFileName(name), createdAt, pid: 0, hostname: "", writerAlive: false, entries: [], unreadable: (error as Error).message });
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
