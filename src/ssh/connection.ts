/**
 * One lab machine's SSH connection: opened on first use and kept for the whole run, reached
 * directly or through its jump host's connection (ssh2 has no ProxyJump: a direct-tcpip channel
 * from the jump host becomes the socket of the inner connection), its host key checked like
 * OpenSSH, logged in with a key, an agent or a password (also over keyboard-interactive), opened
 * again after a loss, refused at once after a failure that does not fix itself during a run, and
 * closed. Running commands on it is exec.ts's.
 */
import { promises as fs } from "node:fs";
import ssh2, { type Client, type ClientChannel, type ConnectConfig } from "ssh2";
import type { CommandTransport, ExecChannel } from "./channel.js";
import { SshError, type SshErrorDetails, type SshErrorKind, type SshHostRef } from "./errors.js";
import { checkHostKey, defaultKnownHostsPath, hostKeyAlgorithmsFor, knownKeyTypes, type HostKeyDecision } from "./hostkeys.js";
import { localTransport } from "./local.js";

// ssh2 is CommonJS: Node's ESM loader only offers its default export.
const { Client: SshClient, utils } = ssh2;

/** One machine to reach, as plain data (independent of the lab spec's layout). */
export interface SshTarget {
  /** "balancer", "webserver1", ... */
  name: string;
  host: string;
  /**
   * This machine is the target (hagrade runs on the balancer): commands run here through
   * local.ts, as the user running hagrade; host, port and credentials are not used, and targets
   * that jump through it are reached directly.
   */
  local?: boolean;
  port: number;
  user: string;
  privateKeyPath?: string;
  passphrase?: string;
  password?: string;
  /** true: $SSH_AUTH_SOCK; a string: the agent's socket or Windows pipe ("pageant" for Pageant). */
  agent?: string | boolean;
  /** Name of the target to reach this one through (usually "balancer"). */
  jump?: string;
  /** Pinned host key fingerprint "SHA256:..."; replaces known_hosts for this target. */
  hostKey?: string;
  knownHostsPath?: string;
  /** File an unknown host key for this target even without the pool's acceptNewHostKeys (ssh_config accept-new). */
  acceptNewHostKey?: boolean;
}

export interface ConnectInfo {
  fingerprint: string;
  keyType: string;
  /** How the key was accepted: pinned, found in known_hosts, or newly added to it; "local": no SSH, this machine. */
  hostKey: "pinned" | "known_hosts" | "added" | "local";
}

/** What opening a connection needs (part of SshPoolOptions). */
export interface ConnectOptions {
  /** File unknown host keys in known_hosts instead of refusing them (a changed key is always refused). */
  acceptNewHostKeys: boolean;
  /** Bound on TCP connect + SSH handshake + authentication (and on opening a jump channel). */
  connectTimeoutMs: number;
}

/** The pipe the Windows OpenSSH agent listens on. */
const WINDOWS_AGENT_PIPE = "\\\\.\\pipe\\openssh-ssh-agent";

/**
 * Answers to a keyboard-interactive round: the password goes only to a single, hidden prompt that
 * asks for a password; any other prompt (a question, a one-time code, an echoed field, several
 * at once: what a hostile server asks to collect it) gets an empty answer.
 */
export function keyboardInteractiveAnswers(prompts: readonly { prompt: string; echo?: boolean }[], password: string): string[] {
  const asksPassword = (p: { prompt: string; echo?: boolean }) => p.echo !== true && /\b(password|passphrase|contrase(ñ|n)a)\b/i.test(p.prompt);
  if (prompts.length === 1 && asksPassword(prompts[0]!)) return [password];
  return prompts.map(() => "");
}

function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 3) out = out.split(secret).join("***");
  return out;
}

const transientKinds: ReadonlySet<SshErrorKind> = new Set(["refused", "timeout", "unreachable", "disconnected", "jump-failed"]);

/** An open connection: what carries commands (exec.ts) and what tells when it is gone. */
export interface Connection {
  transport: CommandTransport;
  /** The SSH client, for targets that jump through this one; absent for this machine. */
  client?: Client;
  info: ConnectInfo;
  closed: boolean;
  closeListeners: Set<() => void>;
}

/** The other targets a connection can jump through (the pool). */
export interface JumpHosts {
  get(name: string): { readonly target: Readonly<SshTarget>; client(): Promise<Client> };
}

/** The connection to one lab machine, shared by every command run on it. */
export class HostConnector {
  readonly name: string;
  /** user@host:port, " via <jump>" when jumped: safe to show. */
  readonly address: string;
  private connecting?: Promise<Connection>;
  private permanentError?: SshError;
  private lastInfo?: ConnectInfo;

  constructor(
    readonly target: Readonly<SshTarget>,
    private readonly jumpHosts: JumpHosts,
    private readonly options: ConnectOptions,
  ) {
    this.name = target.name;
    this.address = target.local
      ? `${target.user}@this machine (local)`
      : `${target.user}@${target.host}:${target.port}${target.jump ? ` via ${target.jump}` : ""}`;
  }

  get ref(): SshHostRef {
    return { name: this.name, address: this.address };
  }

  /** Host key seen on the last successful connection. */
  get hostKey(): ConnectInfo | undefined {
    return this.lastInfo;
  }

  /** The live ssh2 client, for the jump of another target (a local target has none). */
  async client(): Promise<Client> {
    const { client } = await this.connection();
    if (!client) throw new Error(`ssh target "${this.name}" is this machine: nothing to jump through`);
    return client;
  }

  /** An SshError about this machine, with its password and passphrase blanked out of the reason. */
  fail(kind: SshErrorKind, details: SshErrorDetails = {}): SshError {
    const reason = details.reason === undefined ? undefined : redact(details.reason, [this.target.password, this.target.passphrase]);
    return new SshError(kind, this.ref, { ...details, ...(reason === undefined ? {} : { reason }) });
  }

  /** The open connection, opened now if there is none; throws SshError. */
  async connection(): Promise<Connection> {
    if (this.permanentError) throw this.permanentError;
    if (!this.connecting) {
      const attempt = this.open();
      this.connecting = attempt;
      attempt.then(
        (connection) => {
          connection.closeListeners.add(() => {
            if (this.connecting === attempt) this.connecting = undefined;
          });
        },
        (error: unknown) => {
          if (this.connecting === attempt) this.connecting = undefined;
          // Credentials and host keys do not fix themselves during a run: fail fast next time.
          if (error instanceof SshError && !transientKinds.has(error.kind)) this.permanentError = error;
        },
      );
    }
    return this.connecting;
  }

  private async authConfig(): Promise<Partial<ConnectConfig>> {
    const config: Partial<ConnectConfig> = { username: this.target.user };
    if (this.target.privateKeyPath !== undefined) {
      let key: Buffer;
      try {
        key = await fs.readFile(this.target.privateKeyPath);
      } catch (error) {
        throw this.fail("key-unreadable", {
          privateKeyPath: this.target.privateKeyPath,
          reason: (error as NodeJS.ErrnoException).code ?? "unreadable",
        });
      }
      const parsed = utils.parseKey(key, this.target.passphrase);
      if (parsed instanceof Error) {
        throw this.fail("key-unreadable", { privateKeyPath: this.target.privateKeyPath, reason: parsed.message });
      }
      config.privateKey = key;
      if (this.target.passphrase !== undefined) config.passphrase = this.target.passphrase;
    }
    if (this.target.password !== undefined) {
      config.password = this.target.password;
      // Servers that take passwords through PAM offer only keyboard-interactive.
      config.tryKeyboard = true;
    }
    if (this.target.agent !== undefined && this.target.agent !== false) {
      const agent = this.target.agent === true ? (process.env.SSH_AUTH_SOCK || (process.platform === "win32" ? WINDOWS_AGENT_PIPE : undefined)) : this.target.agent;
      if (agent) config.agent = agent;
    }
    return config;
  }

  /** The jump host's address, under which (with this machine's) its host key is filed. */
  private via(): { host: string; port: number } | undefined {
    if (this.target.jump === undefined) return undefined;
    const jump = this.jumpHosts.get(this.target.jump).target;
    return { host: jump.host, port: jump.port };
  }

  private async jumpSocket(): Promise<ClientChannel | undefined> {
    const jumpName = this.target.jump;
    // Jumping through this machine is connecting from it.
    if (jumpName === undefined || this.jumpHosts.get(jumpName).target.local) return undefined;
    let jumpClient: Client;
    try {
      jumpClient = await this.jumpHosts.get(jumpName).client();
    } catch (error) {
      if (error instanceof SshError) throw this.fail("jump-failed", { jumpHost: jumpName, cause: error });
      throw error;
    }
    return new Promise<ClientChannel>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        reject(
          this.fail("jump-failed", {
            jumpHost: jumpName,
            reason: `${jumpName} did not open a connection to ${this.target.host}:${this.target.port} within ${this.options.connectTimeoutMs} ms`,
          }),
        );
      }, this.options.connectTimeoutMs);
      jumpClient.forwardOut("127.0.0.1", 0, this.target.host, this.target.port, (error, stream) => {
        clearTimeout(timer);
        if (error) {
          reject(
            this.fail("jump-failed", {
              jumpHost: jumpName,
              reason: `${jumpName} could not connect to ${this.target.host}:${this.target.port}: ${error.message.replace(/^\(SSH\) Channel open failure: /, "")}`,
            }),
          );
          return;
        }
        if (late) stream.close();
        else resolve(stream);
      });
    });
  }

  private classify(error: Error & { level?: string; code?: string }, decision: HostKeyDecision | undefined): SshError {
    if (decision?.verdict === "unknown") {
      return this.fail("host-key-unknown", {
        fingerprint: decision.fingerprint,
        knownHostsPath: decision.knownHostsPath,
        ...(decision.reason ? { reason: decision.reason } : {}),
      });
    }
    if (decision?.verdict === "changed") {
      return this.fail("host-key-changed", {
        fingerprint: decision.fingerprint,
        ...(decision.expectedFingerprint ? { expectedFingerprint: decision.expectedFingerprint } : {}),
        ...(decision.knownHostsPath ? { knownHostsPath: decision.knownHostsPath } : {}),
        ...(decision.knownHostsLine !== undefined ? { knownHostsLine: decision.knownHostsLine } : {}),
        ...(decision.reason ? { reason: decision.reason } : {}),
      });
    }
    const code = error.code ?? "";
    const reason = code ? `${code}` : error.message;
    switch (error.level) {
      case "client-authentication":
      case "agent":
        return this.fail("auth", { reason: error.message });
      case "client-timeout":
        return this.fail("timeout", { timeoutMs: this.options.connectTimeoutMs });
      case "client-dns":
        return this.fail("unreachable", { reason: error.message });
      default:
        break;
    }
    if (code === "ECONNREFUSED") return this.fail("refused", { reason });
    if (["EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "EHOSTDOWN", "ENETDOWN", "ENOTFOUND", "EAI_AGAIN"].includes(code)) {
      return this.fail("unreachable", { reason });
    }
    if (code === "ETIMEDOUT") return this.fail("timeout", { timeoutMs: this.options.connectTimeoutMs, reason });
    return this.fail("disconnected", { reason: error.message });
  }

  private openLocal(): Connection {
    let transport: CommandTransport;
    try {
      transport = localTransport();
    } catch (error) {
      throw this.fail("disconnected", { reason: (error as Error).message });
    }
    const info: ConnectInfo = { fingerprint: "", keyType: "", hostKey: "local" };
    this.lastInfo = info;
    return { transport, info, closed: false, closeListeners: new Set() };
  }

  private async open(): Promise<Connection> {
    if (this.target.local) return this.openLocal();
    const auth = await this.authConfig();
    const knownHostsPath = this.target.knownHostsPath ?? defaultKnownHostsPath();
    const config: ConnectConfig = {
      ...auth,
      readyTimeout: this.options.connectTimeoutMs,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 3,
    };
    if (this.target.hostKey === undefined) {
      // Like OpenSSH, ask for a key type already on file, so a host known by its ECDSA key is not
      // reported unknown because the server would have preferred to show its Ed25519 key.
      const preferred = hostKeyAlgorithmsFor(await knownKeyTypes(this.target.host, this.target.port, knownHostsPath, this.via()));
      // ssh2's "prepend" skips names already in its list, hence remove-then-prepend (in this key order).
      if (preferred.length > 0) config.algorithms = { serverHostKey: { remove: preferred, prepend: preferred } as never };
    }
    const sock = await this.jumpSocket();
    if (sock) config.sock = sock;
    else {
      config.host = this.target.host;
      config.port = this.target.port;
    }

    let decision: HostKeyDecision | undefined;
    const via = this.via();
    config.hostVerifier = (key: Buffer, verify: (valid: boolean) => void): void => {
      checkHostKey(key, {
        host: this.target.host,
        port: this.target.port,
        ...(this.target.hostKey !== undefined ? { pinnedFingerprint: this.target.hostKey } : {}),
        knownHostsPath,
        acceptNew: this.options.acceptNewHostKeys || this.target.acceptNewHostKey === true,
        ...(via ? { via } : {}),
      }).then(
        (d) => {
          decision = d;
          verify(d.verdict === "trusted" || d.verdict === "added");
        },
        () => verify(false),
      );
    };

    const client = new SshClient();
    const password = this.target.password;
    if (password !== undefined) {
      client.on("keyboard-interactive", (_name, _instructions, _lang, prompts, finish) => {
        finish(keyboardInteractiveAnswers(prompts, password));
      });
    }
    return new Promise<Connection>((resolve, reject) => {
      let settled = false;
      const connection: Connection = {
        transport: {
          exec: (wire, callback) => client.exec(wire, (error, channel) => callback(error, channel as unknown as ExecChannel)),
          end: () => client.end(),
          destroy: () => client.destroy(),
        },
        client,
        info: { fingerprint: "", keyType: "", hostKey: "known_hosts" },
        closed: false,
        closeListeners: new Set(),
      };
      client.on("ready", () => {
        settled = true;
        if (decision && decision.verdict !== "unknown" && decision.verdict !== "changed") {
          connection.info = {
            fingerprint: decision.fingerprint,
            keyType: decision.keyType,
            hostKey: decision.verdict === "added" ? "added" : decision.source,
          };
        }
        this.lastInfo = connection.info;
        resolve(connection);
      });
      client.on("error", (error: Error & { level?: string; code?: string }) => {
        if (!settled) {
          settled = true;
          reject(this.classify(error, decision));
          client.end();
          sock?.destroy();
        }
        // After ready, errors surface through the channels and the close below.
      });
      client.on("close", () => {
        connection.closed = true;
        for (const listener of [...connection.closeListeners]) listener();
        if (!settled) {
          settled = true;
          reject(this.fail("disconnected", { reason: "the server closed the connection during the handshake" }));
        }
      });
      client.connect(config);
    });
  }

  /** Closes this machine's connection (a later exec reconnects). */
  async close(): Promise<void> {
    const pending = this.connecting;
    this.connecting = undefined;
    if (!pending) return;
    let connection: Connection;
    try {
      connection = await pending;
    } catch {
      return;
    }
    if (connection.closed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        connection.transport.destroy();
        resolve();
      }, 2000);
      connection.closeListeners.add(() => {
        clearTimeout(timer);
        resolve();
      });
      if (connection.client) connection.transport.end();
      else {
        // This machine: nothing to hang up; commands still running see their channel close.
        connection.transport.end();
        connection.closed = true;
        for (const listener of [...connection.closeListeners]) listener();
      }
    });
  }
}
