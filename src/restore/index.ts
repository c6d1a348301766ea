/**
 * `hagrade restore`: finishes what killed runs left changed on labs, from their journals, each
 * on the machines of its own lab. Journals are found where runs wrote them: the folder given, or
 * the default one and every folder a run or a batch wrote journals to (remembered in hagrade's
 * state folder). A journal carries the spec of the lab it was written for (a batch: the student's
 * own, with the roster's fields); a spec given with --spec must name the same machines, else the
 * journal is refused and the reason printed. A journal that cannot be read is listed with its
 * path and makes the command fail: something may still be changed there.
 */
import path from "node:path";
import { loadRoster } from "../batch/roster.js";
import { formatProblems, loadSpec, parseSpecText, type SpecLoadResult } from "../config/load.js";
import type { LabSpec } from "../config/schema.js";
import { SecretRegistry } from "../config/secrets.js";
import { resolveSshTargets } from "../config/targets.js";
import type { Lang } from "../model/index.js";
import { safeForTerminal } from "../model/text.js";
import { openSsh } from "../runner/remote.js";
import { knownJournalDirs, listPendingJournals, replayJournal, RestoreJournal, shQuote, type PendingJournal } from "../ssh/index.js";

export interface RestoreOptions {
  /** One journal file. */
  journal?: string;
  /** A folder of journals. */
  dir?: string;
  /** The folder a run writes journals to by default (reports/.journal). */
  defaultDir: string;
  /** A spec to use instead of the one each journal carries (it must name the same machines). */
  spec?: string;
  force: boolean;
  acceptNewHostKeys: boolean;
  lang: Lang;
  /** Where lines for the person go (stdout) and problems (stderr). */
  out(line: string): void;
  err(line: string): void;
}

/** complete: nothing is left changed; incomplete: something is (or may be); bad-input: a spec did not load. */
export type RestoreResult = "complete" | "incomplete" | "bad-input";

function journalsToReplay(options: RestoreOptions): { journals: PendingJournal[]; searched: string[] } {
  if (options.journal !== undefined) {
    const file = path.resolve(options.journal);
    try {
      const j = RestoreJournal.load(file);
      const doc = j.document;
      return {
        journals: [{ file, lab: doc.lab, ...(doc.specPath !== undefined ? { specPath: doc.specPath } : {}), createdAt: doc.createdAt, pid: doc.pid, hostname: doc.hostname, writerAlive: false, entries: j.unfinished() }],
        searched: [file],
      };
    } catch (error) {
      return { journals: [{ file, lab: "?", createdAt: "", pid: 0, hostname: "", writerAlive: false, entries: [], unreadable: (error as Error).message }], searched: [file] };
    }
  }
  const dirs = options.dir !== undefined ? [path.resolve(options.dir)] : [...new Set([path.resolve(options.defaultDir), ...knownJournalDirs()])];
  return { journals: dirs.flatMap((d) => listPendingJournals(d)), searched: dirs };
}

const sshShape = (spec: LabSpec) => JSON.stringify(resolveSshTargets(spec).map((t) => [t.name, t.user, t.host.toLowerCase(), t.port, t.jump ?? ""]));

/**
 * The spec to replay `journal` with: --spec; else the one the journal carries (a batch: the
 * student's own), taking inline secrets the journal left out from where the spec came from (the
 * spec file, or the roster row over the template) when that names the same machines; else, for
 * journals written before specs were kept, the spec file it names.
 */
async function specFor(journal: RestoreJournal, options: RestoreOptions): Promise<{ result: SpecLoadResult; from: string }> {
  if (options.spec !== undefined) {
    const file = path.resolve(options.spec);
    return { result: await loadSpec(file), from: file };
  }
  const doc = journal.document;
  if (doc.spec !== undefined) {
    const kept = await parseSpecText(JSON.stringify(doc.spec), { baseDir: path.dirname(journal.file), sourceName: journal.file });
    if (!kept.ok || !doc.omittedSecrets?.length) return { result: kept, from: journal.file };
    const rebuilt = await rebuiltSpec(journal);
    if (rebuilt?.ok && rebuilt.spec.lab === kept.spec.lab && sshShape(rebuilt.spec) === sshShape(kept.spec)) {
      return { result: rebuilt, from: doc.source?.roster ?? doc.source?.specPath ?? journal.file };
    }
    options.err(
      options.lang === "es"
        ? `${journal.file}: ${doc.omittedSecrets.join(", ")} se escribieron en el spec y no se guardan en el diario; dé el spec con --spec si hacen falta.`
        : `${journal.file}: ${doc.omittedSecrets.join(", ")} were written inline in the spec and are not kept in the journal; give the spec with --spec if they are needed.`,
    );
    return { result: kept, from: journal.file };
  }
  if (doc.specPath !== undefined) return { result: await loadSpec(doc.specPath), from: doc.specPath };
  return {
    result: {
      ok: false,
      warnings: [],
      problems: [{
        path: "",
        message: { es: `${journal.file} no dice de qué spec es.`, en: `${journal.file} does not name its lab spec.` },
        fix: { es: "Dé el spec del laboratorio con --spec FICHERO.", en: "Give the lab's spec with --spec FILE." },
      }],
    },
    from: journal.file,
  };
}

/** The spec of the journal's lab as the batch built it: the roster's row laid over the template. */
async function rebuiltSpec(journal: RestoreJournal): Promise<SpecLoadResult | undefined> {
  const source = journal.document.source;
  if (!source?.specPath) return undefined;
  if (!source.roster) return loadSpec(source.specPath);
  const roster = await loadRoster(source.roster);
  if (!roster.ok) return undefined;
  const row = roster.entries.find((e) => e.lab === journal.lab);
  if (!row) return undefined;
  return row.specFile ? loadSpec(row.specFile) : loadSpec(source.specPath, row.overrides);
}

export async function restoreJournals(options: RestoreOptions): Promise<RestoreResult> {
  const { lang, out } = options;
  const es = lang === "es";
  const { journals, searched } = journalsToReplay(options);
  if (journals.length === 0) {
    out(es ? `Nada que restaurar (buscado en: ${searched.join(", ")}).` : `Nothing to restore (looked in: ${searched.join(", ")}).`);
    return "complete";
  }
  const defaultDir = path.resolve(options.defaultDir);
  for (const dir of new Set(journals.map((j) => path.dirname(j.file)))) {
    if (options.journal === undefined && options.dir === undefined && dir !== defaultDir) {
      out(es ? `Diarios pendientes en ${dir} (hagrade restore --dir ${shQuote(dir)}):` : `Pending journals in ${dir} (hagrade restore --dir ${shQuote(dir)}):`);
    }
  }
  let result: RestoreResult = "complete";
  const worse = (r: RestoreResult) => {
    if (r === "bad-input" || result === "complete") result = r;
  };
  for (const pending of journals) {
    if (pending.unreadable !== undefined) {
      worse("incomplete");
      out(
        es
          ? `✘ ${pending.file}: no se puede leer (${safeForTerminal(pending.unreadable)}). Lo que registraba puede seguir cambiado en el laboratorio "${pending.lab}": compruébalo y restáuralo a mano, y después borra el fichero.`
          : `✘ ${pending.file}: cannot be read (${safeForTerminal(pending.unreadable)}). What it recorded may still be changed on lab "${pending.lab}": check it and restore it by hand, then remove the file.`,
      );
      continue;
    }
    let journal: RestoreJournal;
    try {
      journal = RestoreJournal.load(pending.file);
    } catch (error) {
      worse("incomplete");
      out(`✘ ${pending.file}: ${safeForTerminal((error as Error).message)}`);
      continue;
    }
    if (journal.unfinished().length === 0) continue;
    const { result: loaded, from } = await specFor(journal, options);
    if (!loaded.ok) {
      options.err(`${from}:\n${formatProblems(loaded.problems, lang)}`);
      worse("bad-input");
      continue;
    }
    const secrets = new SecretRegistry();
    const ssh = await openSsh(loaded.spec, secrets, options.acceptNewHostKeys);
    if (!ssh.ok) {
      options.err(`${pending.file}: ${ssh.message[lang]}${ssh.fix ? ` → ${ssh.fix[lang]}` : ""}`);
      worse("incomplete");
      continue;
    }
    try {
      out(es ? `${journal.file} (laboratorio "${journal.lab}"):` : `${journal.file} (lab "${journal.lab}"):`);
      const report = await replayJournal(journal.file, ssh.pool, { force: options.force, lab: loaded.spec.lab });
      if (report.writerAlive) {
        out(es ? "  la ejecución que lo escribió sigue viva (use --force)" : "  the run that wrote it is still alive (use --force)");
        worse("incomplete");
        continue;
      }
      for (const e of report.entries) {
        out(`  ${e.restored ? "✔" : "✘"} ${e.host}: ${safeForTerminal(e.description[lang])} — ${e.status}`);
        if (e.refused) out(`    ${safeForTerminal(e.refused[lang])}`);
      }
      for (const left of report.leftToDo) {
        out(`  ${es ? "Pendiente a mano en" : "Left to do by hand on"} ${left.host} (${left.address}):`);
        for (const c of left.commands) out(`    ${safeForTerminal(secrets.redact(c))}`);
      }
      if (!report.complete) worse("incomplete");
    } finally {
      await ssh.pool.closeAll();
    }
  }
  return result;
}
