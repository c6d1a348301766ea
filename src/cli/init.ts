/** `hagrade init`: writes a commented starter spec (to stdout, or to --out). */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { starterSpec } from "../config/init.js";
import { EXIT } from "./exit.js";
import { UsageError, pickLang } from "./args.js";
import { defineCommand } from "./command.js";

export const initCommand = defineCommand({
  name: "init",
  summary: "write a commented starter spec",
  usage: ["init [--lang es|en] [--out lab.yaml]"],
  options: {
    lang: { type: "string", arg: "es|en", help: "language of the comments (default: es)" },
    out: { type: "string", arg: "FILE", help: "write the spec here (default: print it)" },
    force: { type: "boolean", default: false, help: "overwrite --out if it exists" },
  },
  examples: ["hagrade init --lang en --out lab.yaml"],
  async run(values) {
    const lang = pickLang(values.lang, "es");
    const text = starterSpec(lang);
    if (!values.out) {
      process.stdout.write(text);
      return EXIT.ok;
    }
    const out = resolve(values.out);
    if (existsSync(out) && !values.force) throw new UsageError(`${out} already exists (use --force to overwrite)`);
    await writeFile(out, text, "utf8");
    process.stdout.write(`${out}\n`);
    return EXIT.ok;
  },
});
