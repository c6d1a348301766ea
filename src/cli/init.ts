/**
 * `hagrade init`: writes a commented starter spec (to stdout, or to --out); with
 * `--discover [user@]host[:port]` (or an ssh_config alias) it reads the running lab over SSH and
 * writes a spec for it whose expectations are the lab text's (or a template's), listing where the
 * student's configuration differs.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { starterSpec } from "../config/init.js";
import { readCapped } from "../config/read-capped.js";
import { STEPS, type Step } from "../config/schema.js";
import type { Lang } from "../model/index.js";
import { safeForTerminal } from "../report/terminal.js";
import { discoverLab, type DiscoveryResult } from "../discover/index.js";
import { EXIT } from "./exit.js";
import { UsageError, pickLang } from "./args.js";
import { defineCommand } from "./command.js";

const MAX_TEMPLATE_BYTES = 1024 * 1024;

export const initCommand = defineCommand({
  name: "init",
  summary: "write a commented starter spec, or discover a running lab's (--discover)",
  usage: [
    "init [--lang es|en] [--out lab.yaml]",
    "init --discover [user@]host[:port] [--identity KEY] [--known-hosts FILE] [--template course.yaml] [--step STEP] [--out lab.yaml]",
  ],
  options: {
    lang: { type: "string", arg: "es|en", help: "language of the comments (default: es)" },
    out: { type: "string", arg: "FILE", help: "write the spec here (default: print it; with --discover: lab.yaml)" },
    force: { type: "boolean", default: false, help: "overwrite --out if it exists" },
    discover: { type: "string", arg: "DEST", help: "read the running lab over SSH from its balancer: [user@]host[:port], ssh://..., or a Host of ~/.ssh/config" },
    identity: { type: "string", short: "i", arg: "KEY", help: "private key file, as ssh -i (default: ~/.ssh/config, the agent, ~/.ssh/id_ed25519, id_rsa)" },
    "known-hosts": { type: "string", arg: "FILE", help: "known_hosts to check host keys against, strictly (default: ~/.ssh/known_hosts; a new key is shown and pinned)" },
    template: { type: "string", arg: "FILE", help: "a teacher's spec template: its expectations (expect, weights, loadfactors, routes, step) override the lab text's" },
    step: { type: "string", arg: "STEP", help: `the lab step to grade (${STEPS.join(", ")}; default final)` },
    part: { type: "string", arg: "lvs|proxy", help: "the part, when discovery should not decide it" },
    vip: { type: "string", arg: "ADDR[:PORT]", help: "the VIP as reached from here (e.g. 127.0.0.1:8080 through a port forward)" },
    lab: { type: "string", arg: "NAME", help: "the spec's lab name (default lab-<part>)" },
    "ssh-timeout": { type: "string", arg: "MS", help: "bound on each SSH connection and command (default 10000)" },
  },
  examples: [
    "hagrade init --lang en --out lab.yaml",
    "hagrade init --discover root@192.168.0.10 --out lab.yaml",
    "hagrade init --discover balancer --template course.yaml --step wrr",
  ],
  notes: [
    "With --discover, exit codes are 0 (spec written; differences from the lab text are listed, not errors), 2 bad input, 3 the lab could not be reached or read.",
  ],
  async run(values) {
    const lang = pickLang(values.lang, "es");
    if (values.discover === undefined) {
      for (const flag of ["identity", "known-hosts", "template", "step", "part", "vip", "lab", "ssh-timeout"] as const) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --discover`);
      }
      const text = starterSpec(lang);
      if (!values.out) {
        process.stdout.write(text);
        return EXIT.ok;
      }
      return write(resolve(values.out), text, Boolean(values.force));
    }
    const out = resolve(values.out ?? "lab.yaml");
    if (existsSync(out) && !values.force) throw new UsageError(`${out} already exists (use --force to overwrite)`);
    const step = values.step;
    if (step !== undefined && !(STEPS as readonly string[]).includes(step)) throw new UsageError(`--step must be one of ${STEPS.join(", ")} (got "${step}")`);
    const part = values.part;
    if (part !== undefined && part !== "lvs" && part !== "proxy") throw new UsageError(`--part must be lvs or proxy (got "${part}")`);
    let vip: { address: string; port: number } | undefined;
    if (values.vip !== undefined) {
      const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(values.vip);
      if (!m || Number(m[2] ?? 80) < 1 || Number(m[2] ?? 80) > 65_535) throw new UsageError(`--vip must be ADDRESS[:PORT], e.g. 127.0.0.1:8080 (got "${values.vip}")`);
      vip = { address: m[1]!, port: Number(m[2] ?? 80) };
    }
    let timeoutMs: number | undefined;
    if (values["ssh-timeout"] !== undefined) {
      timeoutMs = Number(values["ssh-timeout"]);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 600_000) throw new UsageError(`--ssh-timeout must be milliseconds from 100 to 600000 (got "${values["ssh-timeout"]}")`);
    }
    const template = values.template !== undefined ? await readTemplate(resolve(values.template)) : undefined;
    const result = await discoverLab({
      destination: values.discover,
      ...(values.identity !== undefined ? { identity: resolve(values.identity) } : {}),
      ...(values["known-hosts"] !== undefined ? { knownHosts: resolve(values["known-hosts"]) } : {}),
      ...(template ? { template } : {}),
      ...(step ? { step: step as Step } : {}),
      ...(part ? { part } : {}),
      ...(vip ? { vip } : {}),
      ...(values.lab !== undefined ? { lab: values.lab } : {}),
      ...(values.lang !== undefined ? { lang } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
    if (!result.ok) {
      process.stderr.write(`hagrade: ${safeForTerminal(result.message[lang])}\n  → ${safeForTerminal(result.fix[lang])}\n`);
      return result.kind === "bad-input" ? EXIT.badInput : EXIT.infrastructure;
    }
    process.stdout.write(summary(result, lang));
    return write(out, result.specText, true);
  },
});

async function write(out: string, text: string, force: boolean): Promise<number> {
  if (existsSync(out) && !force) throw new UsageError(`${out} already exists (use --force to overwrite)`);
  await writeFile(out, text, "utf8");
  process.stdout.write(`${out}\n`);
  return EXIT.ok;
}

async function readTemplate(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const bytes = await readCapped(file, MAX_TEMPLATE_BYTES + 1);
    if (bytes.length > MAX_TEMPLATE_BYTES) throw new Error(`larger than ${MAX_TEMPLATE_BYTES} bytes`);
    text = bytes.toString("utf8");
  } catch (error) {
    throw new UsageError(`--template ${file}: cannot be read (${(error as Error).message})`);
  }
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new UsageError(`--template ${file}: not YAML (${(error as Error).message.split("\n")[0] ?? ""})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError(`--template ${file}: expected a spec (a YAML mapping)`);
  return value as Record<string, unknown>;
}

function summary(result: Extract<DiscoveryResult, { ok: true }>, lang: Lang): string {
  const es = lang === "es";
  const lab = result.lab;
  const s = (text: string) => safeForTerminal(text);
  const lines = [
    `${es ? "Parte" : "Part"}: ${lab.part === "lvs" ? (es ? "1 (keepalived/LVS)" : "1 (keepalived/LVS)") : (es ? "2 (proxy inverso Apache)" : "2 (Apache reverse proxy)")} — ${s(lab.partReason[lang])}`,
    `${es ? "Paso" : "Step"}: ${lab.expectations.step}`,
    `VIP: ${lab.vip.address}:${lab.vip.port} (${s(lab.vipReason[lang])})`,
    `${es ? "Balanceador" : "Balancer"}: ${lab.internalAddress}${lab.serviceAddress ? ` / ${lab.serviceAddress}` : ""}`,
    ...lab.backends.map((b) => `  ${b.name}: ${b.address}:${b.port} — ${es ? "página" : "page"} ${s(b.page?.label ?? "?")}${b.reading ? ` — ${b.reading.machine.family}, ${b.reading.machine.systemd ? "systemd" : "service"}` : ""}`),
  ];
  if (result.hostKeys.length > 0) {
    lines.push(es ? "Claves de máquina (compárelas con `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` en cada máquina):" : "Host keys (compare them with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on each machine):");
    for (const k of result.hostKeys) lines.push(`  ${k.name} ${k.keyType} ${k.fingerprint}${k.how === "added" ? (es ? " (nueva: fijada en el spec)" : " (new: pinned in the spec)") : ""}`);
  }
  if (lab.differences.length > 0) {
    lines.push(es ? `Diferencias con lo esperado (${lab.differences.length}):` : `Differences from what is expected (${lab.differences.length}):`);
    for (const d of lab.differences) lines.push(`  ✘ ${s(d.text[lang])}`, `    → ${s(d.fix[lang])}`);
  } else {
    lines.push(es ? "La configuración coincide con lo esperado." : "The configuration matches what is expected.");
  }
  for (const n of result.notes) lines.push(`  · ${s(n[lang])}`);
  return lines.join("\n") + "\n";
}
