/**
 * `hagrade init --discover root@ADDR`: connects to the balancer with the student's own SSH setup,
 * reads the lab with read-only commands (src/discover/read.ts), reaches each web server through
 * the balancer to confirm its page, and writes a commented spec that loads as written, whose
 * expectations are the lab text's (or a teacher's template's).
 *
 * Host keys: known_hosts is consulted (a changed key is refused) but never written; a key seen
 * for the first time is accepted only when nothing says to be strict (--known-hosts, or ssh_config
 * StrictHostKeyChecking yes), shown, and pinned in the spec, as `ssh` shows a new key before
 * trusting it.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Text } from "../model/index.js";
import { labSpecSchema, resolveSshTargets, type LabSpec, type Step } from "../config/schema.js";
import { parseSpecText } from "../config/load.js";
import { formatProblems } from "../config/problems.js";
import type { ResolvedSshTarget } from "../config/targets.js";
import type { SshConfigDocument } from "../config/ssh-config.js";
import { SecretRegistry, loadSshCredentials } from "../config/secrets.js";
import { createIdentifier, fetchOnce } from "../probe/index.js";
import { SshPool, isSshError, type CommandRecord, type SshTarget } from "../ssh/index.js";
import { fetchPageCommand } from "../runner/pages.js";
import { BALANCER_READ_COMMAND, IPVS_READ_COMMAND, WEBSERVER_READ_COMMAND, parseBalancerReading, parseWebServerReading, type BalancerReading } from "./read.js";
import {
  candidates,
  detectPart,
  differences,
  findVip,
  labTextExpectations,
  nameBackends,
  pageDigest,
  sameSubnet,
  type DiscoveredBackend,
  type DiscoveredLab,
  type Expectations,
  type Part,
} from "./lab.js";
import { discoveredSpecText, type SpecDraft } from "./spec-text.js";

export { DISCOVERY_COMMANDS, BALANCER_READ_COMMAND, IPVS_READ_COMMAND, WEBSERVER_READ_COMMAND } from "./read.js";
export { labTextExpectations, type DiscoveredLab, type Difference, type Expectations } from "./lab.js";

export interface DiscoverOptions {
  /** `[user@]host[:port]`, `ssh://user@host:port`, or an ssh_config alias. */
  destination: string;
  /** Like `ssh -i`: the private key file. */
  identity?: string;
  /** Like UserKnownHostsFile, and strict: an unknown host key is refused. */
  knownHosts?: string;
  part?: Part;
  step?: Step;
  /** A teacher's template (a partial spec, already parsed): its expectations override the lab text's. */
  template?: Record<string, unknown>;
  /** The VIP as reached from here (a port forward: 127.0.0.1:8080). */
  vip?: { address: string; port: number };
  lab?: string;
  lang?: "es" | "en";
  /** Trust a host key seen for the first time (default true unless strict). */
  acceptNewHostKeys?: boolean;
  timeoutMs?: number;
  /** For tests: the environment, home and ssh_config the targets are resolved with. */
  env?: NodeJS.ProcessEnv;
  homeDir?: string;
  sshConfig?: SshConfigDocument | false;
  /** Every command run on the lab, as it ends. */
  onCommand?: (record: CommandRecord) => void;
}

export interface HostKeySeen {
  name: string;
  address: string;
  fingerprint: string;
  keyType: string;
  how: "pinned" | "known_hosts" | "added";
}

export type DiscoveryResult =
  | { ok: true; lab: DiscoveredLab; specText: string; spec: LabSpec; hostKeys: HostKeySeen[]; commands: CommandRecord[]; notes: Text[] }
  | { ok: false; kind: "ssh" | "not-a-lab" | "bad-input"; message: Text; fix: Text; commands: CommandRecord[] };

const t = (es: string, en: string): Text => ({ es, en });

export function parseDestination(text: string): { user?: string; host: string; port?: number } | undefined {
  const m = /^(?:ssh:\/\/)?(?:([A-Za-z0-9._][A-Za-z0-9._@-]{0,63})@)?([A-Za-z0-9._-]{1,253}|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) return undefined;
  const port = m[3] !== undefined ? Number(m[3]) : undefined;
  if (port !== undefined && (port < 1 || port > 65_535)) return undefined;
  return { host: m[2]!.replace(/^\[|\]$/g, ""), ...(m[1] !== undefined ? { user: m[1] } : {}), ...(port !== undefined ? { port } : {}) };
}

const PLACEHOLDER = "192.0.2.1";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The lab text's expectations with a template's laid over them. */
function expectationsWith(part: Part, step: Step | undefined, template: Record<string, unknown> | undefined): Expectations {
  const templateStep = typeof template?.step === "string" ? (template.step as Step) : undefined;
  const base = labTextExpectations(part, step ?? templateStep);
  if (!template) return base;
  const expect = isRecord(template.expect) ? template.expect : {};
  const byName = new Map<string, Record<string, unknown>>();
  if (Array.isArray(template.backends)) for (const b of template.backends) if (isRecord(b) && typeof b.name === "string") byName.set(b.name, b);
  const number = (identity: string, field: string): number | undefined => {
    const v = byName.get(`webserver${identity}`)?.[field];
    return typeof v === "number" ? v : undefined;
  };
  const out: Expectations = { ...base };
  if (expect.lbAlgo === "rr" || expect.lbAlgo === "wrr") out.lbAlgo = expect.lbAlgo;
  if (typeof expect.persistenceTimeout === "number") out.persistenceTimeout = expect.persistenceTimeout;
  if (typeof expect.cookieName === "string") out.cookieName = expect.cookieName;
  const baseWeights = base.weights;
  if ([...byName.values()].some((b) => typeof b.weight === "number")) out.weights = (id) => number(id, "weight") ?? baseWeights?.(id) ?? 1;
  const baseLoadfactors = base.loadfactors;
  out.loadfactors = (id) => number(id, "loadfactor") ?? baseLoadfactors?.(id) ?? 1;
  out.routes = (id) => {
    const r = byName.get(`webserver${id}`)?.route;
    return typeof r === "string" ? r : base.routes(id);
  };
  const identity = isRecord(template.identity) ? template.identity : {};
  if (typeof identity.pattern === "string") out.identityPattern = identity.pattern;
  if (typeof identity.flags === "string") out.identityFlags = identity.flags;
  return out;
}

/** Temporary known_hosts holding the user's entries: unknown keys are filed there, never in the user's. */
function scratchKnownHosts(source: string): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hagrade-discover-"));
  const file = path.join(dir, "known_hosts");
  try {
    if (existsSync(source)) copyFileSync(source, file);
  } catch {
    // An unreadable known_hosts only means every key is new to us.
  }
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function poolFor(targets: ResolvedSshTarget[], registry: SecretRegistry, options: { timeoutMs: number; acceptNew: boolean; knownHostsOverride?: string; onCommand: (r: CommandRecord) => void }): Promise<SshPool | Text> {
  const list: SshTarget[] = [];
  for (const target of targets) {
    const creds = await loadSshCredentials(target, registry);
    if (!creds.ok) return creds.error.message;
    list.push({
      name: target.name,
      host: target.host,
      port: target.port,
      user: target.user,
      knownHostsPath: options.knownHostsOverride ?? target.knownHostsPath,
      ...(target.privateKeyPath ? { privateKeyPath: target.privateKeyPath } : {}),
      ...(creds.credentials.passphrase !== undefined ? { passphrase: creds.credentials.passphrase } : {}),
      ...(creds.credentials.password !== undefined ? { password: creds.credentials.password } : {}),
      ...(target.agent !== undefined ? { agent: target.agent } : {}),
      ...(target.jump ? { jump: target.jump } : {}),
      ...(target.hostKey ? { hostKey: target.hostKey } : {}),
      ...(options.acceptNew || target.acceptNewHostKey ? { acceptNewHostKey: true } : {}),
    });
  }
  return new SshPool(list, { acceptNewHostKeys: false, connectTimeoutMs: options.timeoutMs, execTimeoutMs: options.timeoutMs, sudo: "auto", onCommand: options.onCommand });
}

/** Discovers the lab behind `options.destination`; never throws for lab or network trouble. */
export async function discoverLab(options: DiscoverOptions): Promise<DiscoveryResult> {
  const commands: CommandRecord[] = [];
  const notes: Text[] = [];
  const onCommand = (r: CommandRecord) => {
    commands.push(r);
    options.onCommand?.(r);
  };
  const dest = parseDestination(options.destination);
  if (!dest) {
    return { ok: false, kind: "bad-input", message: t(`"${options.destination}" no es [usuario@]máquina[:puerto].`, `"${options.destination}" is not [user@]host[:port].`), fix: t("Escriba p. ej. root@192.168.0.10 o el nombre de un Host de ~/.ssh/config.", "Write e.g. root@192.168.0.10 or the name of a Host in ~/.ssh/config."), commands };
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  const environment = {
    ...(options.env ? { env: options.env } : {}),
    ...(options.homeDir ? { homeDir: options.homeDir } : {}),
    ...(options.sshConfig !== undefined ? { sshConfig: options.sshConfig } : {}),
    onNote: (note: string) => notes.push(t(note, note)),
  };
  const sshDefaults = {
    ...(dest.user ? { user: dest.user } : {}),
    ...(options.identity ? { privateKey: options.identity } : {}),
    ...(options.knownHosts ? { knownHosts: options.knownHosts } : {}),
  };
  const balancerSsh = { host: dest.host, ...(dest.port ? { port: dest.port } : {}) };
  // A throwaway spec resolves the balancer exactly as `run` will: ssh_config, keys, agent, jumps.
  const probeSpec = labSpecSchema.parse({
    lab: "discover",
    vip: { address: PLACEHOLDER },
    balancer: { internalAddress: PLACEHOLDER, ssh: balancerSsh },
    backends: [{ name: "webserver1", address: "192.0.2.11" }, { name: "webserver2", address: "192.0.2.12" }],
    ssh: sshDefaults,
  });
  const first = resolveSshTargets(probeSpec, environment).filter((target) => !target.name.startsWith("webserver"));
  const balancerTarget = first.find((target) => target.name === "balancer")!;
  const strict = options.knownHosts !== undefined || options.acceptNewHostKeys === false;
  const scratch = strict ? undefined : scratchKnownHosts(balancerTarget.knownHostsPath);
  const registry = new SecretRegistry();
  const poolOptions = { timeoutMs, acceptNew: !strict, ...(scratch ? { knownHostsOverride: scratch.file } : {}), onCommand };
  let pool: SshPool | undefined;
  try {
    const made = await poolFor(first, registry, poolOptions);
    if (!(made instanceof SshPool)) return { ok: false, kind: "bad-input", message: made, fix: t("Revise --identity y la clave.", "Check --identity and the key."), commands };
    pool = made;
    const balancer = pool.get("balancer");
    const read = await balancer.tryExec(BALANCER_READ_COMMAND, { timeoutMs });
    if (!read.ok) return { ok: false, kind: "ssh", message: read.error.text, fix: read.error.fix, commands };
    const ipvs = await balancer.tryExec(IPVS_READ_COMMAND, { sudo: true, timeoutMs });
    const reading = parseBalancerReading(read.result.stdout, ipvs.ok && ipvs.result.code === 0 ? ipvs.result.stdout : undefined);
    const detected = options.part ? { part: options.part, reason: t("--part", "--part") } : detectPart(reading);
    if (!detected) {
      return {
        ok: false,
        kind: "not-a-lab",
        message: t("En el balanceador no hay ni un virtual_server de keepalived ni un balanceador de Apache con BalancerMember.", "The balancer has neither a keepalived virtual_server nor an Apache balancer with BalancerMembers."),
        fix: t("Configure la parte 1 (/etc/keepalived/keepalived.conf) o la parte 2 (el sitio proxy-inverso.conf) y vuelva a probar.", "Set up Part 1 (/etc/keepalived/keepalived.conf) or Part 2 (the proxy-inverso.conf site) and try again."),
        commands,
      };
    }
    const part = detected.part;
    const expectations = expectationsWith(part, options.step, options.template);
    const configured = candidates(reading, part, undefined);
    const firstBackend = configured.list[0]?.address;
    const internal = firstBackend ? reading.addresses.find((a) => sameSubnet(a, firstBackend) && a.interface !== "lo") : undefined;
    const found = candidates(reading, part, internal);
    if (found.list.length < 2 || !internal) {
      return {
        ok: false,
        kind: "not-a-lab",
        message: t(`Solo se encuentra ${found.list.length} servidor web (${found.list.map((c) => c.address).join(", ") || "ninguno"}) en una red del balanceador.`, `Only ${found.list.length} web server found (${found.list.map((c) => c.address).join(", ") || "none"}) on a network of the balancer.`),
        fix: part === "lvs" ? t("Escriba un real_server por servidor web en keepalived.conf.", "Write one real_server per web server in keepalived.conf.") : t("Escriba un BalancerMember por servidor web.", "Write one BalancerMember per web server."),
        commands,
      };
    }
    const identify = createIdentifier({ pattern: new RegExp(expectations.identityPattern, expectations.identityFlags.replace(/[gy]/g, "")) });
    const withPages = [];
    for (const c of found.list) {
      const r = await balancer.tryExec(fetchPageCommand(c.address, c.port, "/"), { timeoutMs });
      const body = r.ok ? r.result.stdout : "";
      const id = body.trim() === "" ? null : identify(body);
      const captured = id?.captured !== undefined && /^\d{1,3}$/.test(id.captured) ? String(Number(id.captured)) : undefined;
      const page: DiscoveredBackend["page"] = {
        label: body.trim() === "" ? (r.ok ? "no answer" : r.error.text.en) : (id?.captured !== undefined ? `"${body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 60)}"` : "unrecognised page"),
        ...(captured !== undefined ? { identity: captured } : {}),
        ...(body.trim() !== "" ? { md5: pageDigest(body) } : {}),
      };
      withPages.push({ ...c, page });
    }
    const backends = nameBackends(withPages, reading);
    const sshHost = balancerTarget.host;
    const serviceAddress = reading.addresses.find((a) => a.address === sshHost && !sameSubnet(internal, a.address))?.address
      ?? reading.addresses.find((a) => a.interface !== "lo" && a.interface !== internal.interface && !sameSubnet(internal, a.address))?.address;
    const vipHeld = findVip(reading, part, serviceAddress);
    const vipFound = options.vip ? { ...options.vip, reason: t("--vip", "--vip") } : vipHeld;
    // Part 1 behind a port forward: the IPVS and keepalived.conf checks look for the VIP the balancer holds.
    const forwardsTo = part === "lvs" && options.vip && vipHeld && (vipHeld.address !== options.vip.address || vipHeld.port !== options.vip.port)
      ? { address: vipHeld.address, port: vipHeld.port }
      : undefined;
    if (!vipFound) {
      return { ok: false, kind: "not-a-lab", message: t("No se encuentra la VIP.", "The VIP cannot be found."), fix: t("Désela con --vip DIRECCIÓN[:PUERTO].", "Give it with --vip ADDRESS[:PORT]."), commands };
    }
    const labName = options.lab ?? (typeof options.template?.lab === "string" ? options.template.lab : `lab-${part}`);
    const lang = options.lang ?? (options.template?.lang === "en" ? "en" : "es");
    const partial: Omit<DiscoveredLab, "differences"> = {
      part,
      partReason: detected.reason,
      vip: { address: vipFound.address, port: vipFound.port },
      vipReason: vipFound.reason,
      ...(forwardsTo ? { vipForwardsTo: forwardsTo } : {}),
      internalAddress: internal.address,
      ...(serviceAddress && serviceAddress !== vipFound.address ? { serviceAddress } : {}),
      backends,
      expectations,
      notes,
    };

    // The web servers over SSH through the balancer, resolved exactly as the written spec will be.
    const draftSpec = buildDraft(partial, { labName, lang, balancerSsh, sshDefaults, template: options.template, hostKeys: {} });
    const loaded = await parseSpecText(discoveredSpecText(draftSpec), { baseDir: process.cwd(), sourceName: "discovered spec", ...(options.env ? { env: options.env } : {}), ...(options.homeDir ? { homeDir: options.homeDir } : {}) });
    if (!loaded.ok) {
      return { ok: false, kind: "bad-input", message: t(`El spec descubierto no carga: ${formatProblems(loaded.problems, "es")}`, `The discovered spec does not load: ${formatProblems(loaded.problems, "en")}`), fix: t("Revise --template.", "Check --template."), commands };
    }
    const all = resolveSshTargets(loaded.spec, environment);
    // How each key was met the first time (the second connection finds it in the scratch file).
    const firstContact = new Map(pool.names().map((name) => [name, pool!.get(name).hostKey?.hostKey] as const));
    await pool.closeAll();
    const full = await poolFor(all, registry, poolOptions);
    if (!(full instanceof SshPool)) return { ok: false, kind: "bad-input", message: full, fix: t("Revise la clave.", "Check the key."), commands };
    pool = full;
    for (const b of backends) {
      const r = await pool.get(b.name).tryExec(WEBSERVER_READ_COMMAND, { timeoutMs });
      if (r.ok) b.reading = parseWebServerReading(r.result.stdout);
      else {
        b.sshError = r.error.text;
        notes.push(t(`${b.name}: sin SSH (${r.error.text.es})`, `${b.name}: no SSH (${r.error.text.en})`));
      }
    }
    const hostKeys: HostKeySeen[] = [];
    for (const name of pool.names()) {
      const info = pool.get(name).hostKey;
      // A balancer read on this machine (hostKey "local") has no host key to pin.
      const how = firstContact.get(name) ?? info?.hostKey;
      if (info && info.fingerprint && how !== undefined && how !== "local") hostKeys.push({ name, address: pool.get(name).address, fingerprint: info.fingerprint, keyType: info.keyType, how });
    }
    const lab: DiscoveredLab = { ...partial, differences: differences(partial, reading, found.sharedHost) };
    await vipNote(lab, options, notes, balancerTarget);
    const pins = Object.fromEntries(hostKeys.map((k) => [k.name, k.fingerprint]));
    const finalDraft = buildDraft(lab, { labName, lang, balancerSsh, sshDefaults, template: options.template, hostKeys: pins });
    const specText = discoveredSpecText(finalDraft);
    const final = await parseSpecText(specText, { baseDir: process.cwd(), sourceName: "discovered spec", ...(options.env ? { env: options.env } : {}), ...(options.homeDir ? { homeDir: options.homeDir } : {}) });
    if (!final.ok) {
      return { ok: false, kind: "bad-input", message: t(`El spec descubierto no carga: ${formatProblems(final.problems, "es")}`, `The discovered spec does not load: ${formatProblems(final.problems, "en")}`), fix: t("Revise --template.", "Check --template."), commands };
    }
    return { ok: true, lab, specText, spec: final.spec, hostKeys, commands, notes };
  } catch (error) {
    if (isSshError(error)) return { ok: false, kind: "ssh", message: error.text, fix: error.fix, commands };
    throw error;
  } finally {
    await pool?.closeAll();
    scratch?.cleanup();
  }
}

async function vipNote(lab: DiscoveredLab, options: DiscoverOptions, notes: Text[], balancer: ResolvedSshTarget): Promise<void> {
  const answer = await fetchOnce({ address: lab.vip.address, port: lab.vip.port, path: "/" }, { retries: 0, timeouts: { connectMs: 2000, headersMs: 3000, bodyMs: 3000 } }).catch(() => undefined);
  if (answer?.ok) return;
  const loopback = /^127\./.test(balancer.host) || balancer.host === "localhost";
  notes.push(loopback
    ? t(`La VIP ${lab.vip.address}:${lab.vip.port} no responde desde aquí, y el balanceador se alcanza por ${balancer.host}:${balancer.port} (una redirección de puertos): dé la VIP tal como se ve desde aquí con --vip 127.0.0.1:PUERTO.`, `The VIP ${lab.vip.address}:${lab.vip.port} does not answer from here, and the balancer is reached at ${balancer.host}:${balancer.port} (a port forward): give the VIP as seen from here with --vip 127.0.0.1:PORT.`)
    : t(`La VIP ${lab.vip.address}:${lab.vip.port} no responde desde aquí.`, `The VIP ${lab.vip.address}:${lab.vip.port} does not answer from here.`));
  void options;
}

interface DraftOptions {
  labName: string;
  lang: "es" | "en";
  balancerSsh: { host: string; port?: number };
  sshDefaults: { user?: string; privateKey?: string; knownHosts?: string };
  template: Record<string, unknown> | undefined;
  hostKeys: Record<string, string>;
}

const TEMPLATE_SECTIONS = ["student", "grader", "rubric", "timeouts", "sampling"] as const;
const TEMPLATE_BACKEND_FIELDS = ["match", "pagePath", "service"] as const;

function buildDraft(lab: Omit<DiscoveredLab, "differences"> & { differences?: DiscoveredLab["differences"] }, o: DraftOptions): SpecDraft {
  const template = o.template ?? {};
  const templateSsh = isRecord(template.ssh) ? template.ssh : {};
  const ssh: SpecDraft["ssh"] = { ...o.sshDefaults };
  for (const key of ["user", "privateKey", "knownHosts"] as const) if (ssh[key] === undefined && typeof templateSsh[key] === "string") ssh[key] = templateSsh[key];
  const extra: Record<string, unknown> = {};
  for (const key of TEMPLATE_SECTIONS) if (template[key] !== undefined) extra[key] = template[key];
  const backendExtra: Record<string, Record<string, unknown>> = {};
  if (Array.isArray(template.backends)) {
    for (const b of template.backends) {
      if (!isRecord(b) || typeof b.name !== "string") continue;
      const fields = Object.fromEntries(TEMPLATE_BACKEND_FIELDS.filter((f) => b[f] !== undefined).map((f) => [f, b[f]]));
      if (Object.keys(fields).length > 0) backendExtra[b.name] = fields;
    }
  }
  const e = lab.expectations;
  const identity = e.identityPattern !== "Bienvenido a webserver(\\d+)" || e.identityFlags !== "i" ? { pattern: e.identityPattern, flags: e.identityFlags } : undefined;
  return {
    lab: o.labName,
    lang: o.lang,
    lab_: { ...lab, differences: lab.differences ?? [] },
    balancerSsh: { ...o.balancerSsh, ...(o.hostKeys.balancer ? { hostKey: o.hostKeys.balancer } : {}) },
    ssh,
    backendHostKeys: Object.fromEntries(lab.backends.filter((b) => o.hostKeys[b.name]).map((b) => [b.name, o.hostKeys[b.name]!])),
    ...(identity ? { identity } : {}),
    extra,
    backendExtra,
    source: o.template ? "template" : "lab-text",
  };
}

export type { BalancerReading };
