/**
 * Turns the spec's layered SSH settings (top-level `ssh` defaults, `balancer.ssh`,
 * `backends[].ssh`) into one flat record per machine, so the SSH layer never merges settings.
 */
import type { LabSpec, Secret } from "./schema.js";

/** The pipe the Windows OpenSSH agent listens on (ssh2 accepts it as `agent`). */
export const WINDOWS_AGENT_PIPE = "\\\\.\\pipe\\openssh-ssh-agent";

export interface ResolvedSshTarget {
  /** "balancer" or the backend's name. */
  name: string;
  host: string;
  port: number;
  user: string;
  privateKeyPath?: string;
  passphrase?: Secret;
  password?: Secret;
  /** Socket (or Windows pipe) of an SSH agent to ask for keys. */
  agent?: string;
  knownHostsPath: string;
  /** Pinned host key fingerprint ("SHA256:..."); without it, known_hosts decides. */
  hostKey?: string;
  /** Reach this machine through an SSH connection to the balancer first. */
  jump?: "balancer";
  /** Prefix privileged commands with `sudo -n`. */
  sudo: boolean;
}

export interface ResolveTargetsEnvironment {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
}

/**
 * One target for the balancer and one per backend, or none at all when the spec gives no
 * `balancer.ssh` (SSH checks are then skipped with that reason). Expects a spec returned by
 * `loadSpec`/`parseSpecText`, whose paths are already absolute.
 */
export function resolveSshTargets(spec: LabSpec, environment: ResolveTargetsEnvironment = {}): ResolvedSshTarget[] {
  const balancerSsh = spec.balancer.ssh;
  if (balancerSsh === undefined) return [];
  const env = environment.env ?? process.env;
  const platform = environment.platform ?? process.platform;
  const defaults = spec.ssh;

  const resolveAgent = (agent: boolean | string | undefined): string | undefined => {
    if (agent === undefined || agent === false) return undefined;
    if (agent === true) {
      const socket = env.SSH_AUTH_SOCK;
      if (socket !== undefined && socket !== "") return socket;
      return platform === "win32" ? WINDOWS_AGENT_PIPE : undefined;
    }
    return agent;
  };

  const build = (name: string, target: NonNullable<LabSpec["balancer"]["ssh"]>, host: string, jump: "balancer" | undefined): ResolvedSshTarget => {
    const user = target.user ?? defaults.user;
    const resolved: ResolvedSshTarget = {
      name,
      host,
      port: target.port ?? defaults.port,
      user,
      knownHostsPath: target.knownHosts ?? defaults.knownHosts,
      sudo: defaults.sudo === "always" || (defaults.sudo === "auto" && user !== "root"),
    };
    const privateKeyPath = target.privateKey ?? defaults.privateKey;
    if (privateKeyPath !== undefined) resolved.privateKeyPath = privateKeyPath;
    const passphrase = target.passphrase ?? defaults.passphrase;
    if (passphrase !== undefined) resolved.passphrase = passphrase;
    const password = target.password ?? defaults.password;
    if (password !== undefined) resolved.password = password;
    const agent = resolveAgent(target.agent ?? defaults.agent);
    if (agent !== undefined) resolved.agent = agent;
    const hostKey = target.hostKey ?? defaults.hostKeys[host];
    if (hostKey !== undefined) resolved.hostKey = hostKey;
    if (jump !== undefined) resolved.jump = jump;
    return resolved;
  };

  const targets = [
    build("balancer", balancerSsh, balancerSsh.host ?? spec.balancer.serviceAddress ?? spec.vip.address, undefined),
  ];
  for (const backend of spec.backends) {
    const target = backend.ssh ?? {};
    const jump = (target.jump ?? "balancer") === "balancer" ? "balancer" : undefined;
    targets.push(build(backend.name, target, target.host ?? backend.address, jump));
  }
  return targets;
}
