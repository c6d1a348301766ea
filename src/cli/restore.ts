/**
 * `hagrade restore`: replays what a killed run left changed on a lab (a stopped web server, a
 * changed page), from the restore journals, each on its own lab's machines, and verifies it
 * (src/restore). Exit 0 when nothing is left changed.
 */
import { join } from "node:path";
import { restoreJournals } from "../restore/index.js";
import { EXIT } from "./exit.js";
import { pickLang } from "./args.js";
import { defineCommand } from "./command.js";

export const restoreCommand = defineCommand({
  name: "restore",
  summary: "undo what a killed run left changed",
  usage: ["restore [--journal FILE | --dir DIR] [--spec lab.yaml]"],
  options: {
    journal: { type: "string", arg: "FILE", help: "replay this journal only" },
    dir: {
      type: "string",
      arg: "DIR",
      help: "replay every unfinished journal here (default: reports/.journal and every folder a run or a batch wrote journals to)",
    },
    spec: {
      type: "string",
      arg: "FILE",
      help: "the lab spec, instead of the one each journal carries (it must lead to the same machines: a journal of another lab is refused)",
    },
    lang: { type: "string", arg: "es|en", help: "language of messages (default: es)" },
    force: { type: "boolean", default: false, help: "replay even if the run that wrote it seems alive" },
    "accept-new-host-keys": { type: "boolean", default: false, help: "trust unknown SSH host keys on first use and remember them" },
  },
  notes: [
    "A journal is replayed only on the machines it was written for (address, jump host and host keys as journaled).",
    "Exit codes: 0 every journal replayed and verified, 2 bad input, 3 something is left to restore by hand (or a journal cannot be read).",
  ],
  examples: ["hagrade restore", "hagrade restore --dir reports/.journal", "hagrade restore --journal reports/.journal/alumno-01-20260101T120000-4242-ab12.journal.json"],
  async run(values) {
    const result = await restoreJournals({
      ...(values.journal !== undefined ? { journal: values.journal } : {}),
      ...(values.dir !== undefined ? { dir: values.dir } : {}),
      ...(values.spec !== undefined ? { spec: values.spec } : {}),
      defaultDir: join("reports", ".journal"),
      force: Boolean(values.force),
      acceptNewHostKeys: Boolean(values["accept-new-host-keys"]),
      lang: pickLang(values.lang, "es"),
      out: (line) => process.stdout.write(`${line}\n`),
      err: (line) => process.stderr.write(`${line}\n`),
    });
    return result === "complete" ? EXIT.ok : result === "bad-input" ? EXIT.badInput : EXIT.infrastructure;
  },
});
