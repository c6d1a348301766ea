/**
 * `hagrade restore`'s engine: finishes what an interrupted run left changed, on the machines the
 * changes were made on and nowhere else. Each entry of a journal names its machine fully (user,
 * address, port, jump host, host keys); the pool at hand must name the same machine, and the
 * connection is pinned to the keys journaled, so a lab whose addresses are the same (every
 * student's web servers are 192.168.100.11 and .12) is never touched by another lab's undo.
 */
import type { Text } from "../model/index.js";
import { describeTarget, RestoreJournal, writerAlive, type JournalEntry, type JournalTarget } from "./journal.js";
import { SshError } from "./errors.js";
import type { SshPool } from "./pool.js";
import { emptyReport, manualRestore, restoreEntry, type ManualRestore, type RestoreReport } from "./restore.js";

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
  /** The lab the pool was built for (its spec's `lab`): a journal of another lab is refused. */
  lab?: string;
  verifyAttempts?: number;
  verifyDelayMs?: number;
  execTimeoutMs?: number;
}

/** The pool's machine `name` as a journal target (without keys: those are pinned, not compared). */
function poolTarget(pool: SshPool, name: string, depth = 0): JournalTarget | undefined {
  if (!pool.has(name) || depth > 4) return undefined;
  const t = pool.get(name).target;
  const via = t.jump !== undefined ? poolTarget(pool, t.jump, depth + 1) : undefined;
  return { name, user: t.user, host: t.host, port: t.port, ...(via ? { via } : {}) };
}

function sameMachine(a: JournalTarget | undefined, b: JournalTarget | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.user === b.user && a.host.toLowerCase() === b.host.toLowerCase() && a.port === b.port && sameMachine(a.via, b.via);
}

/** Why `entry` must not be replayed through `pool`, or undefined when the pool names its machine. */
function refusal(entry: JournalEntry, journalLab: string, pool: SshPool, lab: string | undefined): Text | undefined {
  if (lab !== undefined && lab !== journalLab) {
    return {
      es: `El diario es del laboratorio "${journalLab}" y el spec dado es del laboratorio "${lab}": no se reproduce en otra máquina.`,
      en: `The journal belongs to lab "${journalLab}" and the spec given to lab "${lab}": it is not replayed on another machine.`,
    };
  }
  if (!pool.has(entry.host)) {
    return {
      es: `El spec no tiene ninguna máquina llamada ${entry.host}, donde se hizo el cambio.`,
      en: `The spec has no machine named ${entry.host}, where the change was made.`,
    };
  }
  const here = poolTarget(pool, entry.host);
  if (entry.target === undefined) {
    // Journals of version 1 name the machine by its address text only.
    const address = pool.get(entry.host).address;
    if (address === entry.address) return undefined;
    return {
      es: `El cambio se hizo en ${entry.address} y el spec da ${address} para ${entry.host}.`,
      en: `The change was made on ${entry.address} and the spec gives ${address} for ${entry.host}.`,
    };
  }
  if (sameMachine(entry.target, here)) return undefined;
  const journaled = describeTarget(entry.target, false);
  const given = here ? describeTarget(here, false) : "?";
  return {
    es: `El cambio se hizo en ${entry.host} = ${journaled} (laboratorio "${journalLab}"); el spec dado lleva a ${given}. No se envía nada a otra máquina: restaura con el spec de ese laboratorio (o sin --spec).`,
    en: `The change was made on ${entry.host} = ${journaled} (lab "${journalLab}"); the spec given leads to ${given}. Nothing is sent to another machine: restore with that lab's spec (or without --spec).`,
  };
}

/** Host keys journaled, per target name (the changed machines and the jump hosts they were reached through). */
function journaledKeys(entries: readonly JournalEntry[]): Map<string, string> {
  const keys = new Map<string, string>();
  const add = (t: JournalTarget | undefined) => {
    for (let at = t, depth = 0; at && depth < 5; at = at.via, depth++) {
      if (at.fingerprint && !keys.has(at.name)) keys.set(at.name, at.fingerprint);
    }
  };
  for (const e of entries) add(e.target);
  return keys;
}

function refusedReport(journal: RestoreJournal, entry: JournalEntry, why: Text): RestoreReport {
  const report = emptyReport(journal, entry);
  const left = manualRestore(entry);
  return {
    ...report,
    status: "refused",
    refused: why,
    leftToDo: { ...left, text: { es: `${why.es} ${left.text.es}`, en: `${why.en} ${left.text.en}` } },
  };
}

/**
 * Finishes what an interrupted run left: for each unfinished entry whose machine `pool` names
 * (same user, address, port and jump host; connected only with the host keys journaled), verify
 * first (the change may never have happened, or been undone already), else undo and verify with
 * backoff. An entry on another machine is refused and says why. Never throws for a machine that
 * cannot be reached: that entry is returned in `leftToDo`.
 */
export async function replayJournal(file: string, pool: SshPool, options: ReplayOptions = {}): Promise<ReplayReport> {
  const journal = RestoreJournal.load(file);
  const doc = journal.document;
  const base = { file: journal.file, lab: doc.lab, ...(doc.specPath !== undefined ? { specPath: doc.specPath } : {}) };
  if (!options.force && writerAlive(doc)) {
    return { ...base, complete: false, writerAlive: true, entries: [], leftToDo: [] };
  }
  const unfinished = journal.unfinished();
  // A pool of its own, pinned to the keys the machines had: a machine answering at the same
  // address with another key is not the one that was changed.
  const pinned = pool.withHostKeys(journaledKeys(unfinished));
  const entries: RestoreReport[] = [];
  try {
    for (const entry of unfinished) {
      const why = refusal(entry, doc.lab, pool, options.lab);
      if (why) {
        entries.push(refusedReport(journal, entry, why));
        continue;
      }
      const host = pinned.get(entry.host);
      try {
        await host.connect();
      } catch (error) {
        const keyError = error instanceof SshError ? (error.kind === "host-key-changed" ? error : error.details.cause?.kind === "host-key-changed" ? error.details.cause : undefined) : undefined;
        if (keyError) {
          const who = `${keyError.host.name} (${keyError.host.address})`;
          const seen = keyError.details.fingerprint ?? "?";
          const journaled = keyError.details.expectedFingerprint ?? "?";
          entries.push(
            refusedReport(journal, entry, {
              es: `La máquina que responde como ${who} no es en la que se hizo el cambio: su clave es ${seen} y la del diario ${journaled}.`,
              en: `The machine answering as ${who} is not the one the change was made on: its key is ${seen}, the journal's ${journaled}.`,
            }),
          );
          continue;
        }
        // Unreachable and the like: restoreEntry records the attempts and what is left to do.
      }
      entries.push(
        await restoreEntry(journal, entry, host, emptyReport(journal, entry), {
          verifyAttempts: options.verifyAttempts ?? 6,
          verifyDelayMs: options.verifyDelayMs ?? 500,
          verifyFirst: true,
          ...(options.execTimeoutMs !== undefined ? { execTimeoutMs: options.execTimeoutMs } : {}),
        }),
      );
    }
  } finally {
    await pinned.closeAll();
  }
  const leftToDo = entries.flatMap((r) => (r.leftToDo ? [r.leftToDo] : []));
  return { ...base, complete: journal.unfinished().length === 0, entries, leftToDo };
}
