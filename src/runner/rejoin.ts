/**
 * Apache's balancer keeps a member that failed out for its `retry` (60 s by default), even once
 * the member serves again. proxy.failover does not wait for that by default (only with --long):
 * it notes in the journal folder when the balancer takes the member back, and the next grade of
 * the same lab waits for that moment (or for the member's page through the VIP, whichever comes
 * first) before it samples, so a grade right after a failover does not see a lab with one server.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { LabSpec } from "../config/schema.js";

/** Apache mod_proxy's default `retry`: a failed member gets no traffic for this long (LAB-FACTS). */
export const APACHE_DEFAULT_RETRY_MS = 60_000;
/** Notes live in this subfolder of the journal folder (restore reads only the folder's own files). */
const FOLDER = "rejoin";
/** A note further ahead than this is not believed: Apache's retry is seconds to a few minutes. */
const MAX_AHEAD_MS = 10 * 60_000;
/** Between two looks through the VIP while waiting. */
const POLL_MS = 500;

export interface RejoinNote {
  version: 1;
  lab: string;
  /** The VIP the note is about, `address:port`. */
  vip: string;
  /** The member the balancer keeps out. */
  victim: string;
  notedAt: string;
  /** When the balancer takes it back at the latest (ISO time). */
  until: string;
}

/** One lab's note file: the lab's name and VIP, hashed (a lab name is not a safe file name). */
function notePath(journalDir: string, spec: LabSpec): string {
  const id = `${spec.lab}\n${spec.vip.address}:${spec.vip.port}\n${spec.vip.host ?? ""}`;
  return path.join(journalDir, FOLDER, `${createHash("sha256").update(id).digest("hex").slice(0, 24)}.json`);
}

/**
 * Notes that the balancer keeps `victim` out until `untilMs` (epoch ms). Best effort: a note that
 * cannot be written only means the next grade does not wait.
 */
export function writeRejoinNote(journalDir: string, spec: LabSpec, victim: string, untilMs: number): void {
  const file = notePath(journalDir, spec);
  const note: RejoinNote = {
    version: 1,
    lab: spec.lab,
    vip: `${spec.vip.address}:${spec.vip.port}`,
    victim,
    notedAt: new Date().toISOString(),
    until: new Date(untilMs).toISOString(),
  };
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(note, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // The next grade then samples at once, as if no failover had happened.
  }
}

/** The lab's note if the balancer may still keep a member out now; an expired or unreadable note is removed. */
export function readRejoinNote(journalDir: string, spec: LabSpec, now = Date.now()): RejoinNote | undefined {
  const file = notePath(journalDir, spec);
  let note: RejoinNote;
  try {
    note = JSON.parse(readFileSync(file, "utf8")) as RejoinNote;
  } catch {
    return undefined;
  }
  const until = Date.parse(String(note?.until));
  const valid =
    note?.version === 1 && typeof note.victim === "string" && note.victim.length <= 200 && note.vip === `${spec.vip.address}:${spec.vip.port}` && Number.isFinite(until);
  if (!valid || until <= now || until - now > MAX_AHEAD_MS) {
    clearRejoinNote(journalDir, spec);
    return undefined;
  }
  return note;
}

export function clearRejoinNote(journalDir: string, spec: LabSpec): void {
  rmSync(notePath(journalDir, spec), { force: true });
}

/**
 * Waits, if a previous failover noted that the balancer still keeps a member out, until the
 * member is seen through the VIP (`seen`) or the noted time passes; then removes the note.
 * Undefined when there was nothing to wait for.
 */
export async function waitForNotedRejoin(options: {
  journalDir: string;
  spec: LabSpec;
  seen: (victim: string) => Promise<boolean>;
  signal: AbortSignal;
  onWait?: (victim: string, leftMs: number) => void;
}): Promise<{ victim: string; waitedMs: number; seen: boolean } | undefined> {
  const note = readRejoinNote(options.journalDir, options.spec);
  if (!note) return undefined;
  const begin = Date.now();
  const until = Date.parse(note.until);
  let seen = false;
  while (!options.signal.aborted && Date.now() < until) {
    if (await options.seen(note.victim)) {
      seen = true;
      break;
    }
    options.onWait?.(note.victim, until - Date.now());
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, until - Date.now()))));
  }
  if (!options.signal.aborted) clearRejoinNote(options.journalDir, options.spec);
  return { victim: note.victim, waitedMs: Date.now() - begin, seen };
}
