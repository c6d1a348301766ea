/**
 * Real OpenSSH servers for the SSH layer's tests: each one runs /usr/sbin/sshd in the foreground
 * with its own config, host key and authorized_keys in a temporary folder, on a loopback address.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

export interface ClientKey {
  privateKeyPath: string;
  publicKey: string;
}

export interface Sshd {
  address: string;
  port: number;
  dir: string;
  logFile: string;
  /** Public host key line ("ssh-ed25519 AAAA..."), as sshd serves it. */
  hostPublicKey: string;
  /** Every host key by type ("ed25519", "ecdsa"): public key line and public key file. */
  hostKeys: Record<string, { line: string; file: string }>;
  /** SHA256 fingerprint as ssh-keygen prints it. */
  fingerprint: string;
  log(): string;
  stop(): Promise<void>;
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A client key pair made by ssh-keygen (ed25519 by default). */
export function makeClientKey(dir: string, name: string, options: { passphrase?: string; type?: string } = {}): ClientKey {
  const privateKeyPath = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", options.type ?? "ed25519", "-N", options.passphrase ?? "", "-C", name, "-f", privateKeyPath]);
  return { privateKeyPath, publicKey: readFileSync(`${privateKeyPath}.pub`, "utf8").trim() };
}

/** The fingerprint ssh-keygen computes for a public key file: an oracle independent of the code under test. */
export function keygenFingerprint(publicKeyFile: string): string {
  const out = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyFile], { encoding: "utf8" });
  const match = /(SHA256:[A-Za-z0-9+/]+)/.exec(out);
  if (!match?.[1]) throw new Error(`unexpected ssh-keygen output: ${out}`);
  return match[1];
}

/** Fingerprint of a key line computed here too, only to cross-check ssh-keygen in one test. */
export function fingerprintOfLine(line: string): string {
  const blob = Buffer.from(line.split(/\s+/)[1] ?? "", "base64");
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

async function portIsFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, address, () => server.close(() => resolve(true)));
  });
}

async function waitForBanner(address: string, port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: address, port });
      socket.setTimeout(1000);
      socket.once("data", (data) => {
        socket.destroy();
        resolve(data.toString("latin1").startsWith("SSH-"));
      });
      socket.once("error", () => resolve(false));
      socket.once("timeout", () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd on ${address}:${port} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface SshdOptions {
  address: string;
  port?: number;
  authorizedKeys: string[];
  /** Host key types, first is the one sshd prefers to serve; default ["ed25519"]. */
  hostKeyTypes?: string[];
  logLevel?: "VERBOSE" | "DEBUG1" | "DEBUG2";
  extraConfig?: string[];
  /** sshd reads authorized_keys as the logging-in user: let non-root users read it. */
  usersOtherThanRoot?: boolean;
  passwordAuthentication?: boolean;
}

/** Starts `sshd -D` as root; `stop()` kills it and removes its folder. */
export async function startSshd(options: SshdOptions): Promise<Sshd> {
  const port = options.port ?? 2222;
  if (!(await portIsFree(options.address, port))) throw new Error(`${options.address}:${port} is already in use`);
  if (!existsSync("/run/sshd")) mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const dir = makeTempDir("hagrade-sshd-");
  const hostKeyTypes = options.hostKeyTypes ?? ["ed25519"];
  const hostKeys = hostKeyTypes.map((type) => {
    const file = path.join(dir, `ssh_host_${type}_key`);
    execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", `host-${type}`, "-f", file]);
    return file;
  });
  const authorizedKeys = path.join(dir, "authorized_keys");
  writeFileSync(authorizedKeys, options.authorizedKeys.map((k) => `${k}\n`).join(""), { mode: options.usersOtherThanRoot ? 0o644 : 0o600 });
  if (options.usersOtherThanRoot) chmodSync(dir, 0o755);
  const logFile = path.join(dir, "sshd.log");
  const config = [
    `ListenAddress ${options.address}:${port}`,
    ...hostKeys.map((k) => `HostKey ${k}`),
    "UsePAM no",
    "PermitRootLogin prohibit-password",
    `PasswordAuthentication ${options.passwordAuthentication ? "yes" : "no"}`,
    "KbdInteractiveAuthentication no",
    // The temp folder lives under world-writable /tmp, which StrictModes refuses.
    "StrictModes no",
    `AuthorizedKeysFile ${authorizedKeys}`,
    `PidFile ${path.join(dir, "sshd.pid")}`,
    `LogLevel ${options.logLevel ?? "VERBOSE"}`,
    "AllowTcpForwarding yes",
    "Subsystem sftp internal-sftp",
    ...(options.extraConfig ?? []),
  ];
  const configFile = path.join(dir, "sshd_config");
  writeFileSync(configFile, `${config.join("\n")}\n`);
  const child: ChildProcess = spawn("/usr/sbin/sshd", ["-D", "-f", configFile, "-E", logFile], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await Promise.race([
      waitForBanner(options.address, port, 10_000),
      exited.then(() => {
        throw new Error(`sshd exited: ${stderr}${existsSync(logFile) ? readFileSync(logFile, "utf8") : ""}`);
      }),
    ]);
  } catch (error) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const firstKey = hostKeys[0] ?? "";
  const hostPublicKey = readFileSync(`${firstKey}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
  return {
    address: options.address,
    port,
    dir,
    logFile,
    hostPublicKey,
    hostKeys: Object.fromEntries(
      hostKeyTypes.map((type, i) => {
        const file = `${hostKeys[i] ?? ""}.pub`;
        return [type, { line: readFileSync(file, "utf8").trim().split(/\s+/).slice(0, 2).join(" "), file }];
      }),
    ),
    fingerprint: keygenFingerprint(`${firstKey}.pub`),
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        // sshd -D's per-connection children outlive the listener unless their group goes too.
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
      killSessionsOf(options.address, port);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Kills the per-connection sshd processes left for connections to address:port (by their sockets). */
export function killSessionsOf(address: string, port: number): void {
  let out = "";
  try {
    out = execFileSync("ss", ["-Htnp", "state", "established", "( sport = :" + String(port) + " )"], { encoding: "utf8" });
  } catch {
    return;
  }
  for (const line of out.split("\n")) {
    if (!line.includes(`${address}:${port}`)) continue;
    for (const m of line.matchAll(/pid=(\d+)/g)) {
      try {
        process.kill(Number(m[1]), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

/** Whether a process is still alive on this machine (the test sshd runs here). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `condition` until true or the bound passes; returns the last value. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, boundMs: number, stepMs = 100): Promise<boolean> {
  const until = Date.now() + boundMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
