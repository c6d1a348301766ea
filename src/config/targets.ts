/**
 * Turns the spec's layered SSH settings (top-level `ssh` defaults, `balancer.ssh`,
 * `backends[].ssh`) and the student's own ssh_config into one flat record per machine, so the
 * SSH layer never merges settings.
 *
 * For each option the first value found wins, as in ssh(1): the machine's own block of the spec,
 * the spec's `ssh` defaults, the ssh_config (`ssh.config`, default ~/.ssh/config) for the name
 * the spec gives (`balancer.ssh.host: balancer` works as `ssh balancer`), then the built-in
 * defaults: user root, port 22, ~/.ssh/known_hosts, and, when nothing names a key or password,
 * the running agent (SSH_AUTH_SOCK, or the Windows OpenSSH agent pipe) and the first of
 * ~/.ssh/id_ed25519, id_ecdsa, id_rsa that exists.
 *
 * ProxyJump: the balancer's hops become targets of their own ("jump:<name>"); a web server jumps
 * through the balancer unless the spec says `jump: none`, or names it by `ssh.host` and that
 * name's ssh_config block sets a ProxyJump (a hop that is the balancer is the balancer's
 * connection, not a second one).
 */
import { existsSync } from "node:fs";
import os, { networkInterfaces } from "node:os";
import path from "node:path";
import type { LabSpec, Secret } from "./schema.js";
import {
  defaultSshConfigPath,
  parseJumpHop,
  readSshConfig,
  resolveSshConfigHost,
  SSH_CONFIG_LIMITS,
  type SshConfigContext,
  type SshConfigDocument,
  type SshConfigHost,
} from "./ssh-config.js";

/** The pipe the Windows OpenSSH agent listens on (ssh2 accepts it as `agent`). */
export const WINDOWS_AGENT_PIPE = "\\\\.\\pipe\\openssh-ssh-agent";
/** The keys ssh(1) tries when none is configured, in its order (DSA and security keys aside). */
export const DEFAULT_IDENTITY_FILES = ["id_ed25519", "id_ecdsa", "id_rsa"] as const;

export interface ResolvedSshTarget {
  /** "balancer", the backend's name, or "jump:<name>" for a ProxyJump hop. */
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
  /** Reach this machine through the SSH connection of this target first ("balancer", "jump:..."). */
  jump?: string;
  /** The balancer is this machine: its commands run here, without SSH (see balancerIsLocal). */
  local?: true;
  /** Prefix privileged commands with `sudo -n`. */
  sudo: boolean;
  /** File an unknown host key in known_hosts (ssh_config StrictHostKeyChecking accept-new or no). */
  acceptNewHostKey?: boolean;
  /** Where values came from, for `doctor`: the ssh_config alias and the options it set. */
  via?: { alias: string; options: Record<string, string> };
  /** How the key or agent was chosen, when the spec named none: "~/.ssh/id_ed25519", "agent". */
  found?: string[];
}

export interface ResolveTargetsEnvironment {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  homeDir?: string;
  pathApi?: path.PlatformPath;
  /** The ssh_config to apply; false: none; default: the spec's `ssh.config`, else ~/.ssh/config. */
  sshConfig?: SshConfigDocument | false;
  /** Whether a local file exists (the usual key files); default fs.existsSync. */
  fileExists?: (file: string) => boolean;
  /** Receives what the ssh_config reader noted (a Match block skipped, a file not read). */
  onNote?: (note: string) => void;
  /** This machine's IPv4 addresses (default: its interfaces'). */
  localAddresses?: readonly string[];
}

/** This machine's IPv4 addresses, loopback included. */
export function localIpv4Addresses(): string[] {
  try {
    return Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .filter((a) => a.family === "IPv4")
      .map((a) => a.address);
  } catch {
    return [];
  }
}

const isLoopback = (address: string): boolean => address.startsWith("127.");

/**
 * Whether hagrade runs on the balancer itself, so its commands run here: `balancer.local` says
 * so; without it, when the spec gives no `balancer.ssh` and one of the balancer's addresses
 * (internal, service, or the VIP it holds) is an address of this machine. SSH to itself
 * (`balancer.ssh.host: 127.0.0.1`) stays SSH.
 */
export function balancerIsLocal(spec: LabSpec, localAddresses: readonly string[] = localIpv4Addresses()): boolean {
  if (spec.balancer.local !== undefined) return spec.balancer.local;
  if (spec.balancer.ssh !== undefined) return false;
  const own = new Set(localAddresses.filter((a) => !isLoopback(a)));
  return [spec.balancer.internalAddress, spec.balancer.serviceAddress, spec.vip.address].some((a) => a !== undefined && own.has(a));
}

type SpecTarget = NonNullable<LabSpec["balancer"]["ssh"]>;

function localUser(env: NodeJS.ProcessEnv): string {
  try {
    return os.userInfo().username;
  } catch {
    return env.USER ?? env.USERNAME ?? "";
  }
}

/** Host names an ssh_config may hand back: a plain name or address, nothing a shell or URL would read. */
function usableHost(value: string): boolean {
  return /^[A-Za-z0-9._:%-]{1,253}$/.test(value);
}

/** The ssh_config a spec asks for: `ssh.config`, else ~/.ssh/config; none with `config: false`. */
export function sshConfigFor(spec: LabSpec, environment: Pick<ResolveTargetsEnvironment, "env" | "homeDir" | "pathApi"> = {}): SshConfigDocument | { error: string } | false {
  const context = sshConfigContext(environment);
  const setting = spec.ssh.config;
  if (setting === false) return false;
  const file = setting ?? defaultSshConfigPath(context);
  return readSshConfig(file, { context, required: setting !== undefined });
}

function sshConfigContext(environment: Pick<ResolveTargetsEnvironment, "env" | "homeDir" | "pathApi">): SshConfigContext {
  const env = environment.env ?? process.env;
  return { env, homeDir: environment.homeDir ?? os.homedir(), pathApi: environment.pathApi ?? path, localUser: localUser(env) };
}

/**
 * One target for the balancer and one per backend (plus one per ProxyJump hop of the balancer),
 * or none at all when the spec gives no `balancer.ssh` and the balancer is not this machine
 * (SSH checks are then skipped with that reason); on the balancer itself (balancerIsLocal) its
 * target is `local` and the web servers are reached directly. Expects a spec returned by `loadSpec`/`parseSpecText`, whose paths are absolute.
 */
export function resolveSshTargets(spec: LabSpec, environment: ResolveTargetsEnvironment = {}): ResolvedSshTarget[] {
  const local = balancerIsLocal(spec, environment.localAddresses);
  const balancerSsh = local ? (spec.balancer.ssh ?? {}) : spec.balancer.ssh;
  if (balancerSsh === undefined) return [];
  const env = environment.env ?? process.env;
  const platform = environment.platform ?? process.platform;
  const pathApi = environment.pathApi ?? (platform === "win32" ? path.win32 : path);
  const homeDir = environment.homeDir ?? os.homedir();
  const fileExists = environment.fileExists ?? existsSync;
  const context = sshConfigContext({ env, homeDir, pathApi });
  let document: SshConfigDocument | undefined;
  if (environment.sshConfig !== undefined) {
    document = environment.sshConfig === false ? undefined : environment.sshConfig;
  } else {
    const read = sshConfigFor(spec, { env, homeDir, pathApi });
    if (read !== false && "error" in read) environment.onNote?.(read.error);
    else if (read !== false) document = read;
  }
  for (const note of document?.notes ?? []) environment.onNote?.(note);
  const defaults = spec.ssh;
  const lookup = (alias: string): SshConfigHost | undefined => (document ? resolveSshConfigHost(document, alias, context) : undefined);

  const agentFor = (agent: boolean | string | undefined, config: SshConfigHost | undefined, auto: boolean): string | undefined => {
    if (agent === false) return undefined;
    if (typeof agent === "string") return agent;
    const fromConfig = config?.identityAgent;
    if (fromConfig === "none") return undefined;
    if (agent === undefined && !auto) return undefined;
    if (fromConfig !== undefined && fromConfig !== "SSH_AUTH_SOCK") return fromConfig;
    const socket = env.SSH_AUTH_SOCK;
    if (socket !== undefined && socket !== "") return socket;
    return platform === "win32" ? WINDOWS_AGENT_PIPE : undefined;
  };

  const build = (name: string, target: SpecTarget, alias: string, jump: string | undefined, config: SshConfigHost | undefined): ResolvedSshTarget => {
    const user = target.user ?? defaults.user ?? config?.user ?? "root";
    const host = config && usableHost(config.hostName) ? config.hostName : alias;
    const resolved: ResolvedSshTarget = {
      name,
      host,
      port: target.port ?? defaults.port ?? config?.port ?? 22,
      user,
      knownHostsPath: target.knownHosts ?? defaults.knownHosts ?? config?.userKnownHostsFiles[0] ?? pathApi.join(homeDir, ".ssh", "known_hosts"),
      sudo: defaults.sudo === "always" || (defaults.sudo === "auto" && user !== "root"),
    };
    const found: string[] = [];
    const password = target.password ?? defaults.password;
    if (password !== undefined) resolved.password = password;
    let privateKeyPath = target.privateKey ?? defaults.privateKey;
    if (privateKeyPath === undefined && password === undefined) {
      // ssh(1) skips IdentityFile lines whose file is missing, and uses its usual keys only when none is written.
      const candidates = config && config.identityFiles.length > 0
        ? config.identityFiles
        : DEFAULT_IDENTITY_FILES.map((file) => pathApi.join(homeDir, ".ssh", file));
      privateKeyPath = candidates.find((file) => fileExists(file));
      if (privateKeyPath !== undefined) found.push(privateKeyPath);
    }
    if (privateKeyPath !== undefined) resolved.privateKeyPath = privateKeyPath;
    const passphrase = target.passphrase ?? defaults.passphrase;
    if (passphrase !== undefined) resolved.passphrase = passphrase;
    const namedInSpec = target.privateKey !== undefined || defaults.privateKey !== undefined || password !== undefined;
    const auto = !namedInSpec && !(config?.identitiesOnly === true && privateKeyPath !== undefined);
    const agent = agentFor(target.agent ?? defaults.agent, config, auto);
    if (agent !== undefined) {
      resolved.agent = agent;
      if ((target.agent ?? defaults.agent) === undefined) found.push("agent");
    }
    const hostKey = target.hostKey ?? defaults.hostKeys[host] ?? defaults.hostKeys[alias];
    if (hostKey !== undefined) resolved.hostKey = hostKey;
    if (jump !== undefined) resolved.jump = jump;
    const strict = config?.strictHostKeyChecking;
    if (strict === "accept-new" || strict === "no") resolved.acceptNewHostKey = true;
    if (config && Object.keys(config.sources).length > 0) resolved.via = { alias, options: config.sources };
    if (found.length > 0) resolved.found = found;
    return resolved;
  };

  const balancerAlias = balancerSsh.host ?? spec.balancer.serviceAddress ?? spec.vip.address;
  const balancerConfig = lookup(balancerAlias);
  const targets: ResolvedSshTarget[] = [];
  const hops = new Map<string, string>();
  const sameAsBalancer = (hopText: string): boolean => {
    const hop = parseJumpHop(hopText);
    if (!hop) return false;
    if (hop.host === balancerAlias && hop.port === undefined) return true;
    const hopConfig = lookup(hop.host);
    const hopHost = hopConfig && usableHost(hopConfig.hostName) ? hopConfig.hostName : hop.host;
    const hopPort = hop.port ?? hopConfig?.port ?? 22;
    const balancer = targets.find((t) => t.name === "balancer");
    return balancer !== undefined && balancer.host === hopHost && balancer.port === hopPort;
  };
  /** The target a chain of hops ends in, creating the hop targets (loops and depth bounded). */
  const chain = (list: readonly string[], seen: ReadonlySet<string>, depth: number): string | undefined => {
    let previous: string | undefined;
    for (const hopText of list) {
      if (sameAsBalancer(hopText) && targets.some((t) => t.name === "balancer")) {
        previous = "balancer";
        continue;
      }
      const hop = parseJumpHop(hopText);
      if (!hop || depth >= SSH_CONFIG_LIMITS.maxHops || seen.has(hop.host)) {
        environment.onNote?.(`ProxyJump ${hopText}: not followed (${!hop ? "not [user@]host[:port]" : "a loop or too many hops"})`);
        continue;
      }
      const key = `${hopText}|${previous ?? ""}`;
      const existing = hops.get(key);
      if (existing) {
        previous = existing;
        continue;
      }
      const hopConfig = lookup(hop.host);
      // The hop's own ProxyJump comes first, as ssh(1) connects to it through its own jumps.
      const before = previous ?? (hopConfig && hopConfig.proxyJump.length > 0 ? chain(hopConfig.proxyJump, new Set([...seen, hop.host]), depth + 1) : undefined);
      const name = `jump:${hop.host}${targets.some((t) => t.name === `jump:${hop.host}`) ? `-${hops.size + 1}` : ""}`;
      const hopTarget = build(name, { ...(hop.user !== undefined ? { user: hop.user } : {}), ...(hop.port !== undefined ? { port: hop.port } : {}) }, hop.host, before, hopConfig);
      hopTarget.sudo = false;
      targets.push(hopTarget);
      hops.set(key, name);
      previous = name;
    }
    return previous;
  };

  const balancerJump = !local && balancerConfig && balancerConfig.proxyJump.length > 0 ? chain(balancerConfig.proxyJump, new Set([balancerAlias]), 0) : undefined;
  const balancerTarget = build("balancer", balancerSsh, balancerAlias, balancerJump, balancerConfig);
  if (local) balancerTarget.local = true;
  targets.unshift(balancerTarget);
  for (const backend of spec.backends) {
    const target = backend.ssh ?? {};
    const alias = target.host ?? backend.address;
    const config = lookup(alias);
    let jump: string | undefined;
    if (target.jump === "none") jump = undefined;
    else if (target.jump === "balancer") jump = "balancer";
    else if (target.host !== undefined && config && config.proxyJump.length > 0) jump = chain(config.proxyJump, new Set([alias]), 0);
    else if (target.host !== undefined && config?.sources.ProxyJump !== undefined) jump = undefined;
    else jump = "balancer";
    // From the balancer itself the web servers are reached directly.
    if (local && jump === "balancer") jump = undefined;
    targets.push(build(backend.name, target, alias, jump, config));
  }
  // The balancer first, then the hops it needs, then the web servers: the order connections open in.
  const balancer = targets.filter((t) => t.name === "balancer");
  return [...balancer, ...targets.filter((t) => t.name.startsWith("jump:")), ...targets.filter((t) => t.name !== "balancer" && !t.name.startsWith("jump:"))];
}
