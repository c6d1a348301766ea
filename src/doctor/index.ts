/**
 * `hagrade doctor`: checks, without grading, everything a grade needs and says what is wrong in
 * one line each, with the exact fix: the VIP answers; each SSH target connects (its host key is
 * shown for pinning); sudo works without a password where the checks need root; the tools the
 * checks run exist on each machine (ipvsadm, apache2ctl/apachectl, nft/iptables, curl, wget or
 * bash); the commands that stop and start a web server exist; the balancer has an address on the
 * web servers' network. Every command it runs is read-only and bounded by the spec's SSH timeout.
 *
 * Blame decides the exit code, as `run`'s does: the grader's own setup (credentials, host keys,
 * sudo rights) is an infrastructure problem, a lab machine that is down or lacks a tool is the
 * lab's fault.
 */
import type { LabSpec } from "../config/schema.js";
import { resolveSshTargets, type ResolvedSshTarget } from "../config/targets.js";
import { SecretRegistry } from "../config/secrets.js";
import { fetchOnce } from "../probe/index.js";
import { openSsh } from "../runner/remote.js";
import { isSshError, shQuote, sshErrorBlame, type SshError, type SshPool } from "../ssh/index.js";
import type { Text } from "../model/index.js";

/** One line of the doctor's answer: something that works, a problem with its fix, or a note. */
export interface DoctorLine {
  status: "ok" | "problem" | "note";
  /** What the line is about: "vip", "balancer", a backend's name. */
  subject: string;
  /** What was seen. */
  text: Text;
  /** The exact fix (problems only). */
  fix?: Text;
  /** Who must act on a problem: the grader's setup (exit 3) or the lab (exit 1). */
  blame?: "grader" | "lab";
  /** What kind of problem, for scripts and tests: "vip", "ssh:auth", "sudo", "tool:ipvsadm", "network". */
  code?: string;
}

export interface DoctorResult {
  lines: DoctorLine[];
  /** "grader" when any problem is the grader's, else "lab" when any is the lab's, else "ok". */
  verdict: "ok" | "lab" | "grader";
}

export interface DoctorOptions {
  /** Trust unknown host keys on first use and remember them (as `run --accept-new-host-keys`). */
  acceptNewHostKeys?: boolean;
  secrets?: SecretRegistry;
}

const t = (es: string, en: string): Text => ({ es, en });

/** Every tool a check may run, asked for in one round trip per machine. */
const TOOLS = ["ipvsadm", "keepalived", "apache2ctl", "apachectl", "nft", "iptables", "iptables-save", "curl", "wget", "bash", "systemctl", "service", "ip"] as const;
type Tool = (typeof TOOLS)[number];

/** The package that brings a tool, on Debian and on RHEL. */
const PACKAGE: Record<string, { deb: string; rpm: string }> = {
  ipvsadm: { deb: "ipvsadm", rpm: "ipvsadm" },
  keepalived: { deb: "keepalived", rpm: "keepalived" },
  "apache2ctl/apachectl": { deb: "apache2", rpm: "httpd" },
  "nft/iptables": { deb: "nftables", rpm: "nftables" },
  "curl/wget/bash": { deb: "curl", rpm: "curl" },
  ip: { deb: "iproute2", rpm: "iproute" },
};

const MARK = "@@hagrade-doctor@@";
const WORD = /^[A-Za-z0-9_.+/-]{1,200}$/;

/** The program a service command starts with (`systemctl stop apache2` → systemctl), when it names one plainly. */
export function programOf(command: string): string | undefined {
  const first = /^\s*(?:sudo\s+(?:-n\s+)?)?([^\s;&|<>()$`'"\\]+)/.exec(command)?.[1];
  return first !== undefined && WORD.test(first) ? first : undefined;
}

/**
 * The read-only probe run on one machine (as root where the checks run as root, so that sbin is
 * on the PATH as it is for them): the tools present, whether systemd runs, the named programs,
 * and (balancer) its IPv4 addresses.
 */
export function probeCommand(programs: readonly string[], addresses: boolean): string {
  const named = programs.filter((p) => WORD.test(p));
  return [
    `for t in ${TOOLS.join(" ")}; do command -v "$t" >/dev/null 2>&1 && echo "tool $t"; done`,
    "[ -d /run/systemd/system ] && echo systemd",
    ...named.map((p) => `command -v ${shQuote(p)} >/dev/null 2>&1 && echo ${shQuote(`program ${p}`)}`),
    ...(addresses ? [`echo ${MARK}`, "ip -o -4 addr show 2>/dev/null"] : []),
    "true",
  ].join("; ");
}

export interface ProbeReading {
  tools: Set<Tool>;
  systemd: boolean;
  programs: Set<string>;
  /** "10.0.0.1/24" */
  addresses: string[];
}

/** Reads the probe's output, keeping only lines it asked for. */
export function parseProbe(stdout: string, programs: readonly string[]): ProbeReading {
  const [head = "", tail = ""] = stdout.split(MARK);
  const tools = new Set<Tool>();
  const found = new Set<string>();
  let systemd = false;
  for (const line of head.split("\n").map((l) => l.trim())) {
    if (line === "systemd") systemd = true;
    const tool = /^tool (\S+)$/.exec(line)?.[1];
    if (tool !== undefined && (TOOLS as readonly string[]).includes(tool)) tools.add(tool as Tool);
    const program = /^program (\S+)$/.exec(line)?.[1];
    if (program !== undefined && programs.includes(program)) found.add(program);
  }
  const addresses: string[] = [];
  for (const m of tail.matchAll(/\binet (\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2})\b/g)) if (addresses.length < 256) addresses.push(m[1]!);
  return { tools, systemd, programs: found, addresses };
}

function ipv4ToNumber(address: string): number | undefined {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** Whether `address` is inside `cidr` ("10.0.0.1/24"). */
export function inSubnet(address: string, cidr: string): boolean {
  const [base = "", bits = "32"] = cidr.split("/");
  const a = ipv4ToNumber(address);
  const b = ipv4ToNumber(base);
  const n = Number(bits);
  if (a === undefined || b === undefined || !Number.isInteger(n) || n < 0 || n > 32) return false;
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

/** The /24 an address is in, as a student's adapter would be set ("192.168.100.0/24"). */
function slash24(address: string): string {
  return `${address.split(".").slice(0, 3).join(".")}.0/24`;
}

function who(target: ResolvedSshTarget): string {
  return target.local ? `${target.name} (${target.user}, local)` : `${target.name} (${target.user}@${target.host}:${target.port})`;
}

/** The SSH failure as one doctor line; a refused root login says the two ways out. */
function sshProblem(target: ResolvedSshTarget, error: SshError): DoctorLine {
  const blame = sshErrorBlame(error);
  let fix = error.fix;
  if (error.kind === "auth" && target.user === "root" && !/agent/i.test(error.details.reason ?? "")) {
    const key = target.privateKeyPath ?? target.found?.join(", ") ?? "";
    const keyText = key ? ` ${key}` : "";
    fix = t(
      `login de root rechazado: pon ssh.user (un usuario con sudo), o PermitRootLogin prohibit-password en /etc/ssh/sshd_config de ${target.host}; y pon la mitad pública de la clave${keyText} en /root/.ssh/authorized_keys allí.`,
      `root login refused: set ssh.user (a user with sudo), or PermitRootLogin prohibit-password in /etc/ssh/sshd_config of ${target.host}; and put the public half of the key${keyText} in /root/.ssh/authorized_keys there.`,
    );
  }
  return { status: "problem", subject: target.name, text: error.text, fix, blame, code: error.kind === "sudo-password" ? "sudo" : `ssh:${error.kind}` };
}

function missingTool(subject: string, tool: string, why: Text): DoctorLine {
  const pkg = PACKAGE[tool];
  const install = pkg ? `apt install ${pkg.deb} (dnf install ${pkg.rpm})` : "";
  return {
    status: "problem",
    subject,
    blame: "lab",
    code: `tool:${tool}`,
    text: t(`${subject}: falta ${tool} (${why.es}).`, `${subject}: ${tool} is missing (${why.en}).`),
    fix: t(`Instálalo en ${subject}${install ? `: ${install}` : ""}.`, `Install it on ${subject}${install ? `: ${install}` : ""}.`),
  };
}

/** What the checks of the spec's part run on the balancer, each a set of alternatives. */
function balancerNeeds(spec: LabSpec): { tool: string; any: Tool[]; why: Text }[] {
  const lvs = { tool: "ipvsadm", any: ["ipvsadm"] as Tool[], why: t("las comprobaciones de LVS leen la tabla con ipvsadm -Ln", "the LVS checks read the table with ipvsadm -Ln") };
  const keepalived = { tool: "keepalived", any: ["keepalived"] as Tool[], why: t("la parte 1 se hace con keepalived", "part 1 is done with keepalived") };
  const apache = { tool: "apache2ctl/apachectl", any: ["apache2ctl", "apachectl"] as Tool[], why: t("las comprobaciones del proxy leen la configuración con apache2ctl -S", "the proxy checks read the configuration with apache2ctl -S") };
  const common = [
    { tool: "nft/iptables", any: ["nft", "iptables", "iptables-save"] as Tool[], why: t("net.nat lee las reglas de NAT", "net.nat reads the NAT rules") },
    { tool: "curl/wget/bash", any: ["curl", "wget", "bash"] as Tool[], why: t("las páginas de los servidores se piden desde el balanceador", "the web servers' pages are fetched from the balancer") },
    { tool: "ip", any: ["ip"] as Tool[], why: t("las direcciones y rutas se leen con ip", "addresses and routes are read with ip") },
  ];
  if (spec.part === "lvs") return [lvs, keepalived, ...common];
  if (spec.part === "proxy") return [apache, ...common];
  return [{ tool: "ipvsadm or apache2ctl/apachectl", any: ["ipvsadm", "apache2ctl", "apachectl"], why: t("la parte 1 usa ipvsadm, la 2 apache2ctl", "part 1 uses ipvsadm, part 2 apache2ctl") }, ...common];
}

async function checkVip(spec: LabSpec): Promise<DoctorLine> {
  const where = `${spec.vip.address}:${spec.vip.port}`;
  const answer = await fetchOnce(
    { address: spec.vip.address, port: spec.vip.port, path: spec.vip.path, ...(spec.vip.host ? { host: spec.vip.host } : {}) },
    { retries: 0, timeouts: { connectMs: 2000, headersMs: 2500, bodyMs: 2500 } },
  ).catch((error: unknown) => ({ ok: false as const, error: { class: "error", message: (error as Error).message } }));
  if (answer.ok) {
    return { status: "ok", subject: "vip", text: t(`La VIP ${where} responde (HTTP ${answer.status}).`, `The VIP ${where} answers (HTTP ${answer.status}).`) };
  }
  const reason = `${answer.error.class}: ${answer.error.message}`.slice(0, 200);
  return {
    status: "problem",
    subject: "vip",
    blame: "lab",
    code: "vip",
    text: t(`La VIP ${where} no responde por HTTP desde aquí (${reason}).`, `The VIP ${where} does not answer HTTP from here (${reason}).`),
    fix: t(
      `Arranca el servicio del balanceador (keepalived o Apache) y comprueba que tiene la VIP (ip addr); si se llega por una redirección de puertos, pon vip: { address: 127.0.0.1, port: PUERTO } en el spec.`,
      `Start the balancer's service (keepalived or Apache) and check that it holds the VIP (ip addr); if it is reached through a port forward, set vip: { address: 127.0.0.1, port: PORT } in the spec.`,
    ),
  };
}

async function checkMachine(spec: LabSpec, pool: SshPool, target: ResolvedSshTarget): Promise<DoctorLine[]> {
  const host = pool.get(target.name);
  const lines: DoctorLine[] = [];
  let info;
  try {
    info = await host.connect();
  } catch (error) {
    if (isSshError(error)) return [sshProblem(target, error)];
    throw error;
  }
  const how = target.found?.length ? `; ${target.found.join(", ")}` : "";
  const alias = target.via ? `; ssh_config Host ${target.via.alias}` : "";
  if (info.hostKey === "local") {
    lines.push({ status: "ok", subject: target.name, text: t(`${who(target)}: las órdenes se ejecutan en este equipo.`, `${who(target)}: commands run on this machine.`) });
  } else {
    const origin = { pinned: t("fijada en el spec", "pinned in the spec"), known_hosts: t("en known_hosts", "in known_hosts"), added: t("nueva, añadida a known_hosts", "new, added to known_hosts") }[info.hostKey];
    lines.push({
      status: "ok",
      subject: target.name,
      text: t(
        `${who(target)}: conecta; clave de host ${info.keyType} ${info.fingerprint} (${origin.es}; para fijarla: hostKey: ${info.fingerprint})${how}${alias}.`,
        `${who(target)}: connects; host key ${info.keyType} ${info.fingerprint} (${origin.en}; to pin it: hostKey: ${info.fingerprint})${how}${alias}.`,
      ),
    });
  }

  const backend = spec.backends.find((b) => b.name === target.name);
  const isBalancer = target.name === "balancer";
  const programs = backend ? [backend.service.stop, backend.service.start].flatMap((c) => (c === undefined ? [] : [programOf(c)].filter((p): p is string => p !== undefined))) : [];
  let reading: ProbeReading;
  try {
    // As root where the checks run as root: the same PATH (sbin) and the same sudo question.
    const result = await host.exec(probeCommand(programs, isBalancer), { sudo: true });
    reading = parseProbe(result.stdout, programs);
  } catch (error) {
    if (isSshError(error)) return [...lines, sshProblem(target, error)];
    throw error;
  }
  if (target.user !== "root" && spec.ssh.sudo !== "never" && !target.local) {
    lines.push({ status: "ok", subject: target.name, text: t(`${target.name}: sudo -n funciona sin contraseña.`, `${target.name}: sudo -n works without a password.`) });
  }

  if (isBalancer) {
    for (const need of balancerNeeds(spec)) {
      if (!need.any.some((tool) => reading.tools.has(tool))) lines.push(missingTool("balancer", need.tool, need.why));
    }
    if (reading.addresses.length > 0) lines.push(...networkLines(spec, reading.addresses));
  }
  if (backend) {
    if (programs.length > 0) {
      for (const p of programs) {
        if (!reading.programs.has(p)) {
          lines.push({
            status: "problem",
            subject: backend.name,
            blame: "lab",
            code: `service:${p}`,
            text: t(`${backend.name}: la orden de servicio usa ${p}, que no existe allí.`, `${backend.name}: the service command uses ${p}, which does not exist there.`),
            fix: t(`Corrige backends[${backend.name}].service.stop/start en el spec, o instala ${p} en ${backend.name}.`, `Correct backends[${backend.name}].service.stop/start in the spec, or install ${p} on ${backend.name}.`),
          });
        }
      }
    } else {
      const canStop = (reading.systemd && reading.tools.has("systemctl")) || reading.tools.has("service") || reading.tools.has("apache2ctl") || reading.tools.has("apachectl");
      if (!canStop) {
        lines.push({
          status: "problem",
          subject: backend.name,
          blame: "lab",
          code: "service",
          text: t(`${backend.name}: no hay systemctl (con systemd), service ni apache2ctl/apachectl para parar y arrancar Apache.`, `${backend.name}: there is no systemctl (with systemd), service nor apache2ctl/apachectl to stop and start Apache.`),
          fix: t(`Da las órdenes en backends[${backend.name}].service.stop y .start del spec.`, `Give the commands in backends[${backend.name}].service.stop and .start in the spec.`),
        });
      }
    }
  }
  if (!lines.some((l) => l.status === "problem")) {
    const present = TOOLS.filter((tool) => reading.tools.has(tool));
    lines.push({ status: "ok", subject: target.name, text: t(`${target.name}: herramientas: ${present.join(", ") || "ninguna"}.`, `${target.name}: tools: ${present.join(", ") || "none"}.`) });
  }
  return lines;
}

/** The balancer must have an address on each web server's network (the host-only adapter). */
function networkLines(spec: LabSpec, addresses: readonly string[]): DoctorLine[] {
  const lines: DoctorLine[] = [];
  const missing = new Set<string>();
  for (const b of spec.backends) if (!addresses.some((cidr) => inSubnet(b.address, cidr))) missing.add(slash24(b.address));
  for (const net of missing) {
    lines.push({
      status: "problem",
      subject: "balancer",
      blame: "lab",
      code: "network",
      text: t(`El balanceador no tiene dirección en la red de los servidores web ${net} (sus direcciones: ${addresses.join(", ")}).`, `The balancer has no address on the web servers' network ${net} (its addresses: ${addresses.join(", ")}).`),
      fix: t(
        `host-only adapter has no address on ${net}: configura el adaptador sólo-anfitrión del balanceador con ${spec.balancer.internalAddress} (ip addr add ${spec.balancer.internalAddress}/24 dev IFACE, y en /etc/network/interfaces).`,
        `host-only adapter has no address on ${net}: give the balancer's host-only adapter ${spec.balancer.internalAddress} (ip addr add ${spec.balancer.internalAddress}/24 dev IFACE, and in /etc/network/interfaces).`,
      ),
    });
  }
  return lines;
}

/**
 * Checks what a grade of `spec` needs, concurrently, each connection bounded by the spec's SSH
 * timeout: on a working lab it takes a few round trips.
 */
export async function doctorLab(spec: LabSpec, options: DoctorOptions = {}): Promise<DoctorResult> {
  const secrets = options.secrets ?? new SecretRegistry();
  const vip = checkVip(spec);
  const lines: DoctorLine[] = [];
  const targets = resolveSshTargets(spec);
  let pool: SshPool | undefined;
  const machineLines: Promise<DoctorLine[]>[] = [];
  if (targets.length === 0) {
    lines.push({
      status: "note",
      subject: "balancer",
      text: t("El spec no tiene balancer.ssh: las comprobaciones que necesitan SSH se omitirán.", "The spec has no balancer.ssh: the checks that need SSH will be skipped."),
      fix: t("Añade balancer.ssh: { host: DIRECCIÓN } (o hagrade init --discover root@DIRECCIÓN).", "Add balancer.ssh: { host: ADDRESS } (or hagrade init --discover root@ADDRESS)."),
    });
  } else {
    const setup = await openSsh(spec, secrets, Boolean(options.acceptNewHostKeys));
    if (!setup.ok) {
      lines.push({ status: "problem", subject: "ssh", blame: "grader", code: "ssh:credentials", text: setup.message, ...(setup.fix ? { fix: setup.fix } : {}) });
    } else {
      pool = setup.pool;
      const balancer = targets.find((x) => x.name === "balancer");
      const balancerDone = balancer ? checkMachine(spec, setup.pool, balancer) : Promise.resolve([]);
      machineLines.push(balancerDone);
      for (const target of targets) {
        if (target.name === "balancer" || target.name.startsWith("jump:")) continue;
        // A web server behind the balancer is reached through it: its failure is told once, there.
        machineLines.push(
          target.jump === "balancer"
            ? balancerDone.then((b) => (b.some((l) => l.status === "problem" && l.code?.startsWith("ssh:")) ? [] : checkMachine(spec, setup.pool, target)))
            : checkMachine(spec, setup.pool, target),
        );
      }
    }
  }
  try {
    lines.unshift(await vip);
    for (const l of await Promise.all(machineLines)) lines.push(...l);
  } finally {
    await pool?.closeAll();
  }
  const problems = lines.filter((l) => l.status === "problem");
  const verdict = problems.some((l) => l.blame === "grader") ? "grader" : problems.length > 0 ? "lab" : "ok";
  return { lines, verdict };
}
