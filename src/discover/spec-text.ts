/**
 * The commented lab spec `hagrade init --discover` writes. Every value is written as JSON text
 * (a valid YAML scalar), so nothing read from the lab can change the file's structure; the
 * comments say where each value came from and what the lab text expects.
 */
import { stringify } from "yaml";
import { SPEC_REFERENCE, type Lang, type Text } from "../model/index.js";
import type { DiscoveredLab } from "./lab.js";

export interface SshDraft {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  knownHosts?: string;
  hostKey?: string;
}

export interface SpecDraft {
  lab: string;
  lang: Lang;
  lab_: DiscoveredLab;
  balancerSsh: SshDraft;
  /** Shared by every machine: user, key, known_hosts. */
  ssh: { user?: string; privateKey?: string; knownHosts?: string };
  backendHostKeys: Record<string, string>;
  identity?: { pattern: string; flags: string };
  /** Sections of a teacher's template written as they are (rubric, timeouts, sampling, student, grader). */
  extra: Record<string, unknown>;
  /** Backend fields the template sets (by name), written after the discovered ones. */
  backendExtra: Record<string, Record<string, unknown>>;
  /** Where the expectations come from: the lab text or the template. */
  source: "lab-text" | "template";
}

const j = (value: string | number | boolean): string => JSON.stringify(value);
const pick = (lang: Lang, text: Text): string => text[lang].replace(/\s+/g, " ");

export function discoveredSpecText(draft: SpecDraft): string {
  const { lang } = draft;
  const lab = draft.lab_;
  const e = lab.expectations;
  const es = lang === "es";
  const from = draft.source === "template"
    ? (es ? "plantilla del profesor" : "teacher's template")
    : (es ? "enunciado" : "lab text");
  const lines: string[] = [];
  const c = (esText: string, enText: string) => lines.push(`# ${es ? esText : enText}`);
  c("Escrito por `hagrade init --discover`: la topología sale del laboratorio; lo esperado, del enunciado (o de la plantilla), nunca de la configuración del alumno.",
    "Written by `hagrade init --discover`: the topology comes from the lab; the expectations from the lab text (or the template), never from the student's configuration.");
  c(`Referencia de todos los campos: ${SPEC_REFERENCE}.`, `Reference of every field: ${SPEC_REFERENCE}.`);
  lines.push("version: 1", `lab: ${j(draft.lab)}`, `lang: ${j(lang)}`);
  lines.push(`part: ${j(e.part)}                # ${pick(lang, lab.partReason)}`);
  lines.push(`step: ${j(e.step)}               # ${es ? `paso graduado; lo esperado en él viene del ${from}` : `the step graded; what it expects comes from the ${from}`}`);
  lines.push("");
  c(`La VIP: ${pick(lang, lab.vipReason)}.`, `The VIP: ${pick(lang, lab.vipReason)}.`);
  lines.push("vip:", `  address: ${j(lab.vip.address)}`, `  port: ${lab.vip.port}`);
  if (lab.vipForwardsTo) {
    lines.push(`  forwardsTo: { address: ${j(lab.vipForwardsTo.address)}, port: ${lab.vipForwardsTo.port} }   # ${es ? "la VIP tal como la tiene el balanceador (virtual_server de keepalived.conf)" : "the VIP as the balancer holds it (keepalived.conf's virtual_server)"}`);
  }
  lines.push("");
  c("El balanceador: su dirección en la red de servidores es la puerta de enlace de los servidores web.", "The balancer: its address on the server network is the web servers' gateway.");
  lines.push("balancer:", `  internalAddress: ${j(lab.internalAddress)}`);
  if (lab.serviceAddress) lines.push(`  serviceAddress: ${j(lab.serviceAddress)}`);
  lines.push("  ssh:", `    host: ${j(draft.balancerSsh.host)}`);
  if (draft.balancerSsh.port !== undefined) lines.push(`    port: ${draft.balancerSsh.port}`);
  if (draft.balancerSsh.hostKey) lines.push(`    hostKey: ${j(draft.balancerSsh.hostKey)}   # ${es ? "clave de máquina vista al descubrir (fijada)" : "host key seen while discovering (pinned)"}`);
  lines.push("");
  c(es ? "Los servidores web (encontrados en la configuración del balanceador; su página confirmada desde él)." : "The web servers (found in the balancer's configuration; their page confirmed from it).",
    "The web servers (found in the balancer's configuration; their page confirmed from it).");
  lines.push("backends:");
  for (const b of lab.backends) {
    lines.push(`  - name: ${j(b.name)}`, `    address: ${j(b.address)}`);
    if (b.port !== 80) lines.push(`    port: ${b.port}`);
    lines.push(`    identity: ${j(b.identity)}`);
    const weight = e.weights?.(b.identity);
    if (e.part === "lvs" && weight !== undefined) {
      const seen = b.configured?.weight;
      lines.push(`    weight: ${weight}                 # ${es ? `esperado (${from})` : `expected (${from})`}${seen !== undefined && seen !== weight ? (es ? `; la configuración tiene ${seen}` : `; the configuration has ${seen}`) : ""}`);
    }
    if (e.part === "proxy") {
      const lf = e.loadfactors?.(b.identity) ?? 1;
      const seen = b.configured?.loadfactor;
      lines.push(`    loadfactor: ${lf}             # ${es ? `esperado (${from})` : `expected (${from})`}${seen !== undefined && seen !== lf ? (es ? `; la configuración tiene ${seen}` : `; the configuration has ${seen}`) : ""}`);
      const route = e.routes(b.identity);
      const seenRoute = b.configured?.route;
      lines.push(`    route: ${j(route)}${seenRoute !== route ? `          # ${es ? "la configuración tiene" : "the configuration has"} ${seenRoute === undefined ? (es ? "ninguna" : "none") : seenRoute}` : ""}`);
    }
    const hostKey = draft.backendHostKeys[b.name];
    if (hostKey) lines.push("    ssh:", `      hostKey: ${j(hostKey)}`);
    for (const [key, value] of Object.entries(draft.backendExtra[b.name] ?? {})) lines.push(...yamlField(key, value, "    "));
  }
  lines.push("");
  if (draft.identity) {
    lines.push("identity:", `  pattern: ${j(draft.identity.pattern)}`, `  flags: ${j(draft.identity.flags)}`, "");
  }
  c(`Lo que debe cumplir la práctica (${from}).`, `What the lab must do (${from}).`);
  lines.push("expect:");
  if (e.part === "lvs" && e.lbAlgo) lines.push(`  lbAlgo: ${j(e.lbAlgo)}`);
  lines.push(`  persistenceTimeout: ${e.persistenceTimeout}`, `  cookieName: ${j(e.cookieName)}`, "");
  const ssh = Object.entries(draft.ssh).filter(([, v]) => v !== undefined);
  if (ssh.length > 0) {
    c("Acceso SSH común a todas las máquinas (los servidores web se alcanzan saltando por el balanceador).", "SSH access shared by every machine (the web servers are reached by jumping through the balancer).");
    lines.push("ssh:", ...ssh.map(([k, v]) => `  ${k}: ${j(v as string)}`), "");
  }
  for (const [key, value] of Object.entries(draft.extra)) {
    lines.push(...yamlField(key, value, ""));
  }
  if (lab.differences.length > 0) {
    lines.push("");
    c("Diferencias con lo esperado que vio el descubrimiento (lo que la calificación debería encontrar):", "Differences from what is expected seen while discovering (what the grade should find):");
    for (const d of lab.differences) lines.push(`#  - ${pick(lang, d.text)}`);
  }
  return lines.join("\n") + "\n";
}

function yamlField(key: string, value: unknown, indent: string): string[] {
  const text = stringify({ [key]: value }, { lineWidth: 0 }).trimEnd();
  return text.split("\n").map((l) => `${indent}${l}`);
}
