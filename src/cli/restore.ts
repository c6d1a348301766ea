/**
 * `hagrade restore`: replays what a killed run left changed on a lab (a stopped web server, a
 * changed page), from the restore journals, and verifies it. Exit 0 when every journal is complete.
 */
import { join, resolve } from "node:path";
import { formatProblems, loadSpec } from "../config/load.js";
import { SecretRegistry } from "../config/secrets.js";
import { safeForTerminal } from "../report/terminal.js";
import { openSsh } from "../runner/remote.js";
import { listPendingJournals, replayJournal, RestoreJournal } from "../ssh/index.js";
import { EXIT } from "./exit.js";
import { UsageError, pickLang } from "./args.js";
import { defineCommand } from "./command.js";

export const restoreCommand = defineCommand({
  name: "restore",
  summary: "undo what a killed run left changed",
  usage: ["restore [--journal FILE | --dir DIR] [--spec lab.yaml]"],
  options: {
    journal: { type: "string", arg: "FILE", help: "replay this journal only" },
    dir: { type: "string", arg: "DIR", help: "replay every unfinished journal here (default: reports/.journal)" },
    spec: { type: "string", arg: "FILE", help: "the lab spec, when the journal does not name it" },
    lang: { type: "string", arg: "es|en", help: "language of messages (default: es)" },
    force: { type: "boolean", default: false, help: "replay even if the run that wrote it seems alive" },
    "accept-new-host-keys": { type: "boolean", default: false, help: "trust unknown SSH host keys on first use and remember them" },
  },
  notes: ["Exit codes: 0 every journal replayed and verified, 2 bad input, 3 something is left to restore by hand."],
  examples: ["hagrade restore", "hagrade restore --journal reports/.journal/alumno-01-1712345678.json --spec lab.yaml"],
  async run(values) {
    const lang = pickLang(values.lang, "es");
    const dir = resolve(values.dir ?? join("reports", ".journal"));
    const journals = values.journal
      ? [{ file: resolve(values.journal), specPath: undefined as string | undefined }]
      : listPendingJournals(dir).map((j) => ({ file: j.file, specPath: j.specPath }));
    if (journals.length === 0) {
      process.stdout.write(lang === "es" ? `Nada que restaurar en ${dir}.\n` : `Nothing to restore in ${dir}.\n`);
      return EXIT.ok;
    }
    let complete = true;
    for (const j of journals) {
      const specPath = values.spec ? resolve(values.spec) : (j.specPath ?? RestoreJournal.load(j.file).document.specPath);
      if (!specPath) throw new UsageError(`${j.file} does not name its lab spec: give it with --spec FILE`);
      const loaded = await loadSpec(specPath);
      if (!loaded.ok) {
        process.stderr.write(formatProblems(loaded.problems, lang) + "\n");
        return EXIT.badInput;
      }
      const secrets = new SecretRegistry();
      const ssh = await openSsh(loaded.spec, secrets, Boolean(values["accept-new-host-keys"]));
      if (!ssh.ok) throw new UsageError(ssh.message.en);
      try {
        const report = await replayJournal(j.file, ssh.pool, { force: Boolean(values.force) });
        if (report.writerAlive) {
          process.stdout.write(`${j.file}: ${lang === "es" ? "la ejecución que lo escribió sigue viva (use --force)" : "the run that wrote it is still alive (use --force)"}\n`);
          complete = false;
          continue;
        }
        for (const e of report.entries) {
          process.stdout.write(`${e.restored ? "✔" : "✘"} ${e.host}: ${safeForTerminal(e.description[lang])} — ${e.status}\n`);
        }
        for (const left of report.leftToDo) {
          complete = false;
          process.stdout.write(`${lang === "es" ? "Pendiente a mano en" : "Left to do by hand on"} ${left.host} (${left.address}):\n`);
          for (const c of left.commands) process.stdout.write(`  ${safeForTerminal(secrets.redact(c))}\n`);
        }
        if (!report.complete) complete = false;
      } finally {
        await ssh.pool.closeAll();
      }
    }
    return complete ? EXIT.ok : EXIT.infrastructure;
  },
});
