/**
 * Paths written in a spec are relative to the spec file's folder (not to wherever hagrade was
 * started), and `~` means the user's home, as in OpenSSH. The path flavour is a parameter so
 * Windows behaviour is testable on any machine.
 */
import os from "node:os";
import path from "node:path";
import type { LabSpec, Secret } from "./schema.js";

export interface PathContext {
  /** Absolute folder the spec came from. */
  baseDir: string;
  homeDir: string;
  pathApi: path.PlatformPath;
}

export function hostPathContext(baseDir: string): PathContext {
  return { baseDir: path.resolve(baseDir), homeDir: os.homedir(), pathApi: path };
}

/** Windows named pipes (`\\.\pipe\...`) are not files: keep them as written. */
export function isWindowsPipe(value: string): boolean {
  return /^[\\/]{2}[.?][\\/]pipe[\\/]/i.test(value);
}

export function resolveSpecPath(value: string, context: PathContext): string {
  const { pathApi, homeDir, baseDir } = context;
  if (isWindowsPipe(value)) return value;
  // Windows guides write the profile folder as %USERPROFILE%; nothing else expands it here.
  const profile = /^%USERPROFILE%(?=$|[\\/])/i.exec(value);
  if (pathApi.sep === "\\" && profile) return pathApi.join(homeDir, value.slice(profile[0].length));
  if (value === "~") return pathApi.normalize(homeDir);
  const separators = pathApi.sep === "\\" ? ["~/", "~\\"] : ["~/"];
  if (separators.some((prefix) => value.startsWith(prefix))) {
    return pathApi.join(homeDir, value.slice(2));
  }
  return pathApi.resolve(baseDir, value);
}

function resolveSecretPath(secret: Secret | undefined, context: PathContext): Secret | undefined {
  if (secret === undefined || typeof secret === "string" || !("file" in secret)) return secret;
  return { file: resolveSpecPath(secret.file, context) };
}

function resolveAgentPath(agent: boolean | string | undefined, context: PathContext): boolean | string | undefined {
  return typeof agent === "string" ? resolveSpecPath(agent, context) : agent;
}

type TargetLike = {
  privateKey?: string | undefined;
  knownHosts?: string | undefined;
  passphrase?: Secret | undefined;
  password?: Secret | undefined;
  agent?: boolean | string | undefined;
};

function resolveTargetPaths<T extends TargetLike>(target: T, context: PathContext): T {
  const copy = { ...target };
  if (copy.privateKey !== undefined) copy.privateKey = resolveSpecPath(copy.privateKey, context);
  if (copy.knownHosts !== undefined) copy.knownHosts = resolveSpecPath(copy.knownHosts, context);
  if (copy.passphrase !== undefined) copy.passphrase = resolveSecretPath(copy.passphrase, context);
  if (copy.password !== undefined) copy.password = resolveSecretPath(copy.password, context);
  if (copy.agent !== undefined) copy.agent = resolveAgentPath(copy.agent, context);
  return copy;
}

/** A copy of the spec whose local file paths are all absolute. */
export function resolveSpecPaths(spec: LabSpec, context: PathContext): LabSpec {
  const ssh = resolveTargetPaths(spec.ssh, context);
  if (typeof ssh.config === "string") ssh.config = resolveSpecPath(ssh.config, context);
  return {
    ...spec,
    ssh,
    balancer: {
      ...spec.balancer,
      ...(spec.balancer.ssh !== undefined ? { ssh: resolveTargetPaths(spec.balancer.ssh, context) } : {}),
    },
    backends: spec.backends.map((backend) => ({
      ...backend,
      ...(backend.ssh !== undefined ? { ssh: resolveTargetPaths(backend.ssh, context) } : {}),
    })),
  };
}
