import type { LabSpec } from "../config/schema.js";
import { resolveSshTargets } from "../config/targets.js";
import { loadSshCredentials, type SecretRegistry } from "../config/secrets.js";
import { localCommandsSupported, SshPool, type ExecOptions, type ExecResult, type SshHost, type SshTarget } from "../ssh/index.js";
import { ev, type Evidence, type SshCommandRun, type Text } from "../model/index.js";

const OUTPUT_EVIDENCE_CHARS = 4000;

export type CommandEvidence = SshCommandRun;

/** Why SSH is not usable for this run, decided once before any check runs. */
export type SshSetup =
  | { ok: true; pool: SshPool }
  | { ok: false; kind: "no-ssh" | "credentials"; message: Text; fix?: Text };

/**
 * Builds the run's SSH pool from the spec: secrets are resolved here (from the environment or
 * files) and registered so every report can redact them.
 */
export async function openSsh(spec: LabSpec, registry: SecretRegistry, acceptNewHostKeys: boolean): Promise<SshSetup> {
  const resolved = resolveSshTargets(spec);
  if (resolved.length === 0) {
    return {
      ok: false,
      kind: "no-ssh",
      message: {
        es: "Necesita SSH y el fichero del laboratorio no tiene balancer.ssh (ni balancer.local: true, si hagrade se ejecuta en el balanceador).",
        en: "Needs SSH and the lab spec has no balancer.ssh (nor balancer.local: true, if hagrade runs on the balancer).",
      },
    };
  }
  const targets: SshTarget[] = [];
  for (const t of resolved) {
    if (t.local) {
      if (!localCommandsSupported()) {
        return {
          ok: false,
          kind: "credentials",
          message: {
            es: `balancer.local: hagrade solo ejecuta las órdenes del balanceador en este equipo bajo Linux (este es ${process.platform}).`,
            en: `balancer.local: hagrade runs the balancer's commands on this machine only under Linux (this one is ${process.platform}).`,
          },
          fix: {
            es: "Ejecuta hagrade en el balanceador Linux, o quita balancer.local y da balancer.ssh para llegar a él por SSH.",
            en: "Run hagrade on the Linux balancer, or remove balancer.local and give balancer.ssh to reach it over SSH.",
          },
        };
      }
      // This machine: no credentials, no host key; the pool runs its commands as this user.
      targets.push({ name: t.name, host: t.host, port: t.port, user: t.user, local: true });
      continue;
    }
    const creds = await loadSshCredentials(t, registry);
    if (!creds.ok) return { ok: false, kind: "credentials", message: creds.error.message, fix: creds.error.fix };
    targets.push({
      name: t.name,
      host: t.host,
      port: t.port,
      user: t.user,
      knownHostsPath: t.knownHostsPath,
      ...(t.privateKeyPath ? { privateKeyPath: t.privateKeyPath } : {}),
      ...(creds.credentials.passphrase !== undefined ? { passphrase: creds.credentials.passphrase } : {}),
      ...(creds.credentials.password !== undefined ? { password: creds.credentials.password } : {}),
      ...(t.agent !== undefined ? { agent: t.agent } : {}),
      ...(t.jump ? { jump: t.jump } : {}),
      ...(t.hostKey ? { hostKey: t.hostKey } : {}),
      ...(t.acceptNewHostKey ? { acceptNewHostKey: true } : {}),
    });
  }
  const pool = new SshPool(targets, {
    acceptNewHostKeys,
    connectTimeoutMs: spec.timeouts.ssh,
    execTimeoutMs: spec.timeouts.ssh,
    sudo: spec.ssh.sudo,
  });
  return { ok: true, pool };
}

/**
 * A check's window on the lab's machines: every command it runs is kept as evidence (the
 * runner attaches it), output trimmed, secrets already absent.
 */
export class CheckRemote {
  readonly commands: CommandEvidence[] = [];

  constructor(
    readonly pool: SshPool,
    private readonly counter: { sshCommands: number },
    private readonly signal: AbortSignal,
  ) {}

  has(name: string): boolean {
    return this.pool.has(name);
  }

  host(name: string): SshHost {
    return this.pool.get(name);
  }

  /** Runs a command on `host` ("balancer" or a backend's name); throws SshError when it cannot. */
  async exec(host: string, command: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.counter.sshCommands++;
    const result = await this.pool.get(host).exec(command, { signal: this.signal, ...options });
    this.commands.push({
      host,
      command,
      code: result.code,
      durationMs: result.durationMs,
      stdout: result.stdout.slice(0, OUTPUT_EVIDENCE_CHARS),
      stderr: result.stderr.slice(0, OUTPUT_EVIDENCE_CHARS),
    });
    return result;
  }

  evidence(): Evidence[] {
    return this.commands.length ? [ev.sshCommands({ commands: this.commands })] : [];
  }
}
