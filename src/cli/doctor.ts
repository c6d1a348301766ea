/**
 * `hagrade doctor --spec lab.yaml` (or `--discover [user@]host`): checks everything a grade needs
 * without grading (src/doctor/) and prints one line for each thing checked, each problem with its
 * exact fix. Exit codes as for `run`.
 */
import { resolve } from "node:path";
import { formatProblems, loadSpec } from "../config/load.js";
import type { LabSpec } from "../config/schema.js";
import { SecretRegistry } from "../config/secrets.js";
import type { Lang } from "../model/index.js";
import { safeForTerminal } from "../report/terminal.js";
import { discoverLab } from "../discover/index.js";
import { doctorLab, type DoctorResult } from "../doctor/index.js";
import { EXIT, EXIT_CODES_HELP } from "./exit.js";
import { UsageError, pickLang } from "./args.js";
import { defineCommand } from "./command.js";

export const doctorCommand = defineCommand({
  name: "doctor",
  summary: "check that a lab can be graded (VIP, SSH, host keys, sudo, tools), without grading",
  usage: ["doctor --spec lab.yaml [--accept-new-host-keys]", "doctor --discover [user@]host[:port] [--identity KEY] [--known-hosts FILE]"],
  options: {
    spec: { type: "string", arg: "FILE", help: "the lab spec (YAML or JSON)" },
    discover: { type: "string", arg: "DEST", help: "no spec: discover the lab from its balancer first, as `init --discover` does" },
    identity: { type: "string", short: "i", arg: "KEY", help: "with --discover: private key file, as ssh -i" },
    "known-hosts": { type: "string", arg: "FILE", help: "with --discover: known_hosts to check host keys against, strictly" },
    lang: { type: "string", arg: "es|en", help: "language of messages (default: the spec's, else es)" },
    "accept-new-host-keys": { type: "boolean", default: false, help: "trust unknown SSH host keys on first use and remember them" },
  },
  notes: [EXIT_CODES_HELP.replace("0 graded and score >= min-score", "0 everything a grade needs works")],
  examples: ["hagrade doctor --spec lab.yaml", "hagrade doctor --discover root@192.168.0.10 -i ~/.ssh/id_ed25519"],
  async run(values) {
    if ((values.spec === undefined) === (values.discover === undefined)) throw new UsageError("give either --spec FILE or --discover [user@]host");
    if (values.spec !== undefined) {
      for (const flag of ["identity", "known-hosts"] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --discover`);
    }
    let spec: LabSpec;
    let lang: Lang = pickLang(values.lang, "es");
    const secrets = new SecretRegistry();
    if (values.spec !== undefined) {
      const loaded = await loadSpec(resolve(values.spec));
      if (!loaded.ok) {
        process.stderr.write(formatProblems(loaded.problems, lang) + "\n");
        return EXIT.badInput;
      }
      spec = loaded.spec;
      lang = pickLang(values.lang, spec.lang);
      if (loaded.warnings.length) process.stderr.write(formatProblems(loaded.warnings, lang, { kind: "warnings" }) + "\n");
    } else {
      const found = await discoverLab({
        destination: values.discover!,
        ...(values.identity !== undefined ? { identity: resolve(values.identity) } : {}),
        ...(values["known-hosts"] !== undefined ? { knownHosts: resolve(values["known-hosts"]) } : {}),
        lang,
      });
      if (!found.ok) {
        process.stderr.write(`✘ ${safeForTerminal(found.message[lang])} → ${safeForTerminal(found.fix[lang])}\n`);
        return found.kind === "bad-input" ? EXIT.badInput : EXIT.infrastructure;
      }
      spec = found.spec;
    }
    const result = await doctorLab(spec, { acceptNewHostKeys: Boolean(values["accept-new-host-keys"]), secrets });
    process.stdout.write(secrets.redact(doctorText(result, lang)));
    return result.verdict === "grader" ? EXIT.infrastructure : result.verdict === "lab" ? EXIT.studentFault : EXIT.ok;
  },
});

/** One line per thing checked: ✔ works, ✘ a problem and its fix, · a note. */
export function doctorText(result: DoctorResult, lang: Lang): string {
  const s = (text: string) => safeForTerminal(text);
  const lines = result.lines.map((l) => {
    const mark = l.status === "ok" ? "✔" : l.status === "problem" ? "✘" : "·";
    return `${mark} ${s(l.text[lang])}${l.fix && l.status !== "ok" ? ` → ${s(l.fix[lang])}` : ""}`;
  });
  const problems = result.lines.filter((l) => l.status === "problem").length;
  lines.push(
    problems === 0
      ? lang === "es" ? "Todo lo que necesita la corrección funciona: hagrade run --spec lab.yaml" : "Everything a grade needs works: hagrade run --spec lab.yaml"
      : lang === "es" ? `${problems} problema(s): corríjalos antes de corregir.` : `${problems} problem(s): fix them before grading.`,
  );
  return lines.join("\n") + "\n";
}
