/**
 * Host key checking the way OpenSSH does it, so a teacher's existing known_hosts works as it is:
 * plain and hashed (`|1|salt|hash`) host fields, `[host]:port` for other ports, wildcards and
 * negations, `@revoked` lines. A pinned fingerprint, when given, replaces known_hosts.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * OpenSSH's default, the same file on Windows (%USERPROFILE%\.ssh\known_hosts, where
 * os.homedir() is %USERPROFILE%). The path flavour is a parameter so Windows is testable anywhere.
 */
export function defaultKnownHostsPath(pathApi: path.PlatformPath = path, homeDir: string = os.homedir()): string {
  return pathApi.join(homeDir, ".ssh", "known_hosts");
}

/** `SHA256:` + unpadded base64 of the key blob, as `ssh-keygen -l` prints it. */
export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** Accepts "SHA256:abc", "sha256:abc=", "abc" and gives the canonical form. */
export function normalizeFingerprint(fingerprint: string): string {
  const trimmed = fingerprint.trim();
  const body = trimmed.replace(/^sha256:/i, "").replace(/=+$/, "");
  return `SHA256:${body}`;
}

/** The key type written at the start of a key blob ("ssh-ed25519", "ecdsa-sha2-nistp256", ...). */
export function keyTypeOf(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const length = keyBlob.readUInt32BE(0);
  if (length > keyBlob.length - 4 || length > 64) return "unknown";
  return keyBlob.subarray(4, 4 + length).toString("latin1");
}

/** The name a host is filed under in known_hosts: bare for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const lower = host.toLowerCase();
  return port === 22 ? lower : `[${lower}]:${port}`;
}

/** The machine a host is reached through (its jump host). */
export interface JumpRef {
  host: string;
  port: number;
}

/**
 * The name a machine reached through a jump host is filed under: its own name, `@`, the jump
 * host's name (`10.221.0.11@10.220.1.1`). Every student's web servers have the same internal
 * addresses (192.168.100.11 and .12) behind their own balancer: filed by the address alone, the
 * second lab of a class would be refused as a changed key. OpenSSH reads the same line with
 * `HostKeyAlias 10.221.0.11@10.220.1.1`.
 */
export function knownHostsNameVia(host: string, port: number, via?: JumpRef): string {
  return via ? `${knownHostsName(host, port)}@${knownHostsName(via.host, via.port)}` : knownHostsName(host, port);
}

export interface KnownHostsEntry {
  /** 1-based line number in the file. */
  line: number;
  marker?: "@revoked" | "@cert-authority";
  hostField: string;
  keyType: string;
  keyBlob: Buffer;
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const lineText = raw.trim();
    if (lineText === "" || lineText.startsWith("#")) return;
    const fields = lineText.split(/\s+/);
    let marker: KnownHostsEntry["marker"];
    if (fields[0]?.startsWith("@")) {
      const m = fields.shift();
      if (m !== "@revoked" && m !== "@cert-authority") return;
      marker = m;
    }
    const [hostField, keyType, keyBase64] = fields;
    if (!hostField || !keyType || !keyBase64) return;
    const keyBlob = Buffer.from(keyBase64, "base64");
    if (keyBlob.length === 0) return;
    entries.push({ line: index + 1, ...(marker ? { marker } : {}), hostField, keyType, keyBlob });
  });
  return entries;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const regex = new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`,
    "i",
  );
  return regex.test(name);
}

function hashedMatch(field: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = field.split("|");
  if (parts.length !== 4 || parts[1] !== "1") return false;
  const salt = Buffer.from(parts[2] ?? "", "base64");
  const expected = Buffer.from(parts[3] ?? "", "base64");
  const actual = createHmac("sha1", salt).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether a known_hosts host field names this host (as `knownHostsName` writes it). */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith("|")) return hashedMatch(field, name);
  let matched = false;
  for (const pattern of field.split(",")) {
    if (pattern === "") continue;
    if (pattern.startsWith("!")) {
      // A matching negation rules the line out whatever else matches, as in OpenSSH.
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

export type HostKeyDecision =
  | { verdict: "trusted"; fingerprint: string; keyType: string; source: "pinned" | "known_hosts" }
  | { verdict: "added"; fingerprint: string; keyType: string; knownHostsPath: string }
  | { verdict: "unknown"; fingerprint: string; keyType: string; knownHostsPath: string; reason?: string }
  | {
      verdict: "changed";
      fingerprint: string;
      keyType: string;
      expectedFingerprint?: string;
      knownHostsPath?: string;
      knownHostsLine?: number;
      reason?: string;
    };

export interface HostKeyPolicy {
  host: string;
  port: number;
  /** Pinned "SHA256:..." fingerprint: when present, the only key accepted. */
  pinnedFingerprint?: string;
  knownHostsPath: string;
  acceptNew: boolean;
  /** The jump host this machine is reached through: it is filed under both names (knownHostsNameVia). */
  via?: JumpRef;
}

async function readKnownHosts(file: string): Promise<{ text: string; error?: string }> {
  try {
    return { text: await fs.readFile(file, "utf8") };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { text: "" };
    return { text: "", error: `cannot read ${file}: ${code ?? "error"}` };
  }
}

/** Host key types already on file for a host, so the handshake can ask for one of those first. */
export async function knownKeyTypes(host: string, port: number, knownHostsPath: string, via?: JumpRef): Promise<string[]> {
  const { text } = await readKnownHosts(knownHostsPath);
  const entries = parseKnownHosts(text).filter((e) => e.marker === undefined);
  const under = (name: string) => entries.filter((e) => hostFieldMatches(e.hostField, name)).map((e) => e.keyType);
  const types = [...under(knownHostsNameVia(host, port, via)), ...(via ? under(knownHostsName(host, port)) : [])];
  return [...new Set(types)];
}

/** ssh2 names of the signature algorithms that a known key type can be negotiated with. */
export function hostKeyAlgorithmsFor(keyTypes: readonly string[]): string[] {
  const out: string[] = [];
  for (const type of keyTypes) {
    if (type === "ssh-rsa") out.push("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa");
    else if (type === "ssh-ed25519" || type.startsWith("ecdsa-sha2-nistp") || type === "ssh-dss") out.push(type);
  }
  return [...new Set(out)];
}

// Appends within this process one at a time, so two first connections do not interleave lines.
let appendQueue: Promise<unknown> = Promise.resolve();

async function appendKnownHost(file: string, line: string): Promise<void> {
  const run = async () => {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const { text } = await readKnownHosts(file);
    if (text.split(/\r?\n/).some((l) => l.trim() === line)) return;
    const prefix = text !== "" && !text.endsWith("\n") ? "\n" : "";
    const handle = await fs.open(file, "a", 0o600);
    try {
      await handle.appendFile(`${prefix}${line}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  };
  const next = appendQueue.then(run, run);
  appendQueue = next.catch(() => undefined);
  await next;
}

/** Decides about the key a server presented; with `acceptNew`, files an unknown key. */
export async function checkHostKey(keyBlob: Buffer, policy: HostKeyPolicy): Promise<HostKeyDecision> {
  const fingerprint = fingerprintOf(keyBlob);
  const keyType = keyTypeOf(keyBlob);
  if (policy.pinnedFingerprint !== undefined) {
    const expected = normalizeFingerprint(policy.pinnedFingerprint);
    if (expected === fingerprint) return { verdict: "trusted", fingerprint, keyType, source: "pinned" };
    return { verdict: "changed", fingerprint, keyType, expectedFingerprint: expected, reason: `${keyType} key` };
  }
  const { text, error } = await readKnownHosts(policy.knownHostsPath);
  const name = knownHostsNameVia(policy.host, policy.port, policy.via);
  const all = parseKnownHosts(text).filter((e) => e.marker !== "@cert-authority");
  const entries = all.filter((e) => hostFieldMatches(e.hostField, name));
  // Behind a jump host, the bare address (what `ssh -J` files) may be any lab's machine at that
  // address: a key there that matches is trusted; one that differs proves nothing either way.
  const bare = policy.via ? all.filter((e) => e.marker === undefined && hostFieldMatches(e.hostField, knownHostsName(policy.host, policy.port))) : [];
  const bareName = knownHostsName(policy.host, policy.port);
  const revoked = all.find((e) => e.marker === "@revoked" && e.keyBlob.equals(keyBlob) && (hostFieldMatches(e.hostField, name) || hostFieldMatches(e.hostField, bareName)));
  if (revoked) {
    return {
      verdict: "changed",
      fingerprint,
      keyType,
      knownHostsPath: policy.knownHostsPath,
      knownHostsLine: revoked.line,
      reason: "key marked @revoked",
    };
  }
  const plain = entries.filter((e) => e.marker === undefined);
  if (plain.some((e) => e.keyBlob.equals(keyBlob)) || bare.some((e) => e.keyBlob.equals(keyBlob))) {
    return { verdict: "trusted", fingerprint, keyType, source: "known_hosts" };
  }
  // Any key on file for this name, of this type or another, and this one is not it: the machine
  // changed (or is not the one on file). A server that has the known key offers it (the
  // handshake asks for the types on file first), so another type is no reason to file this one.
  const onFile = plain.find((e) => e.keyType === keyType) ?? plain[0];
  if (onFile) {
    return {
      verdict: "changed",
      fingerprint,
      keyType,
      expectedFingerprint: fingerprintOf(onFile.keyBlob),
      knownHostsPath: policy.knownHostsPath,
      knownHostsLine: onFile.line,
      ...(onFile.keyType !== keyType ? { reason: `it showed a ${keyType} key; ${onFile.keyType} is on file` } : {}),
    };
  }
  if (!policy.acceptNew) {
    return { verdict: "unknown", fingerprint, keyType, knownHostsPath: policy.knownHostsPath, ...(error ? { reason: error } : {}) };
  }
  try {
    await appendKnownHost(policy.knownHostsPath, `${name} ${keyType} ${keyBlob.toString("base64")}`);
  } catch (writeError) {
    const code = (writeError as NodeJS.ErrnoException).code ?? "error";
    return { verdict: "unknown", fingerprint, keyType, knownHostsPath: policy.knownHostsPath, reason: `cannot write ${policy.knownHostsPath}: ${code}` };
  }
  return { verdict: "added", fingerprint, keyType, knownHostsPath: policy.knownHostsPath };
}
