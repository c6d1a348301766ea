/**
 * One SSH connection per lab machine for the whole run, opened on first use and shared by every
 * check; web servers are reached through the balancer's connection (ssh2 has no ProxyJump: a
 * direct-tcpip channel from the balancer becomes the socket of the inner connection).
 */
import { promises as fs } from "node:fs";
import ssh2, { type Client, type ClientChannel, type ConnectConfig } from "ssh2";
import type { CommandTransport, ExecChannel } from "./channel.js";
import { SshError, type SshErrorDetails, type SshErrorKind, type SshHostRef } from "./errors.js";
import { checkHostKey, defaultKnownHostsPath, hostKeyAlgorithmsFor, knownKeyTypes, type HostKeyDecision } from "./hostkeys.js";
import { localTransport, localUser } from "./local.js";
import { PRIVILEGE_PROBE, remoteCommand } from "./remote.js";

// ssh2 is CommonJS: Node's ESM loader only offers its default export.
const { Client: SshClient, utils } = ssh2;

export type SudoMode = "auto" | "always" | "never";

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

/** What every executed command leaves behind, for evidence and logs (never stdin, never secrets). */
export interface CommandRecord {
  host: string;
  address: string;
  command: string;
  sudo: boolean;
  startedAt: string;
  durationMs: number;
  code: number | null;
  signal: string | null;
  /** Output cut to a few kilobytes for the log; the caller got it whole (up to its cap). */
  stdout: string;
  stderr: string;
  truncated: boolean;
  stdinBytes?: number;
  /** Set when the command did not run to an exit status. */
  error?: SshErrorKind;
}

export interface SshPoolOptions {
  /** File unknown host keys in known_hosts instead of refusing them (a changed key is always refused). */
  acceptNewHostKeys: boolean;
  /** Bound on TCP connect + SSH handshake + authentication (and on opening a jump channel). */
  connectTimeoutMs: number;
  /** Default bound on one command. */
  execTimeoutMs: number;
  /** auto: `sudo -n` for privileged commands when the user is not root; always: for every command; never: no sudo. */
  sudo: SudoMode;
  onCommand?: (record: CommandRecord) => void;
  /** Concurrent commands per connection; sshd's MaxSessions defaults to 10. */
  maxChannelsPerHost?: number;
  /** Characters of stdout/stderr kept per record in the command log. */
  logOutputChars?: number;
}

export interface ExecOptions {
  /** Bound on this command (default: the pool's execTimeoutMs). */
  timeoutMs?: number;
  /** The command needs root (ipvsadm, service, writing /var/www). See SshPoolOptions.sudo. */
  sudo?: boolean;
  /**
   * Run as the login user even with `sudo: "always"`: for what only the login session has, such
   * as $SSH_CONNECTION (sudo resets the environment).
   */
  asLogin?: boolean;
  /** Data for the command's stdin. Such commands lose the close watchdog (see remote.ts). */
  stdin?: string | Buffer;
  /** Cap on each of stdout and stderr; the rest is drained and dropped (default 1 MiB). */
  maxOutputBytes?: number;
  /** Abandon the command (it is killed remotely, as on a timeout). */
  signal?: AbortSignal;
}

export interface ExecResult {
  command: string;
  /** Exit status, null when the command ended by a signal or no status came back. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  truncated: boolean;
}

export interface ConnectInfo {
  fingerprint: string;
  keyType: string;
  /** How the key was accepted: pinned, found in known_hosts, or newly added to it; "local": no SSH, this machine. */
  hostKey: "pinned" | "known_hosts" | "added" | "local";
}

/** The pipe the Windows OpenSSH agent listens on. */
const WINDOWS_AGENT_PIPE = "\\\\.\\pipe\\openssh-ssh-agent";
const DEFAULT_MAX_OUTPUT = 1024 * 1024;
const LOG_LIMIT = 2000;
// Lets the grader's own deadline fire first, so a timeout is reported as one (and not as code 137).
const REMOTE_DEADLINE_SLACK_S = 2;

class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(size: number) {
    this.free = size;
  }
  async take(): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    };
  }
}

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

interface Connection {
  transport: CommandTransport;
  /** The SSH client, for targets that jump through this one; absent for this machine. */
  client?: Client;
  info: ConnectInfo;
  closed: boolean;
  closeListeners: Set<() => void>;
}

/** One lab machine. Get it from `SshPool.get(name)`. */
export class SshHost {
  readonly name: string;
  /** user@host:port, " via <jump>" when jumped: safe to show. */
  readonly address: string;
  private connecting?: Promise<Connection>;
  private permanentError?: SshError;
  private privilege?: Promise<"root" | "sudo">;
  private readonly records: CommandRecord[] = [];
  private readonly slots: Slots;
  private lastInfo?: ConnectInfo;

  constructor(
    readonly target: Readonly<SshTarget>,
    private readonly pool: SshPool,
    private readonly options: SshPoolOptions,
  ) {
    this.name = target.name;
    this.address = target.local
      ? `${target.user}@this machine (local)`
      : `${target.user}@${target.host}:${target.port}${target.jump ? ` via ${target.jump}` : ""}`;
    this.slots = new Slots(options.maxChannelsPerHost ?? 8);
  }

  get ref(): SshHostRef {
    return { name: this.name, address: this.address };
  }

  /** Commands run on this machine so far (oldest first). */
  get log(): readonly CommandRecord[] {
    return this.records;
  }

  /** Host key seen on the last successful connection. */
  get hostKey(): ConnectInfo | undefined {
    return this.lastInfo;
  }

  /** Connects now (or reuses the connection); throws SshError. Useful as a preflight. */
  async connect(): Promise<ConnectInfo> {
    return (await this.connection()).info;
  }

  /** The live ssh2 client, for the jump of another target (a local target has none). */
  async client(): Promise<Client> {
    const { client } = await this.connection();
    if (!client) throw new Error(`ssh target "${this.name}" is this machine: nothing to jump through`);
    return client;
  }

  private fail(kind: SshErrorKind, details: SshErrorDetails = {}): SshError {
    const reason = details.reason === undefined ? undefined : redact(details.reason, [this.target.password, this.target.passphrase]);
    return new SshError(kind, this.ref, { ...details, ...(reason === undefined ? {} : { reason }) });
  }

  private async connection(): Promise<Connection> {
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
    const jump = this.pool.get(this.target.jump).target;
    return { host: jump.host, port: jump.port };
  }

  private async jumpSocket(): Promise<ClientChannel | undefined> {
    const jumpName = this.target.jump;
    // Jumping through this machine is connecting from it.
    if (jumpName === undefined || this.pool.get(jumpName).target.local) return undefined;
    let jumpClient: Client;
    try {
      jumpClient = await this.pool.get(jumpName).client();
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

  /** Whether privileged commands need a `sudo -n` prefix here; checked once per machine. */
  private async privilegeFor(wantsRoot: boolean, asLogin = false): Promise<boolean> {
    const mode = this.options.sudo;
    if (asLogin || mode === "never" || !(wantsRoot || mode === "always") || this.target.user === "root") return false;
    if (!this.privilege) {
      this.privilege = this.run(PRIVILEGE_PROBE, { sudo: false }, false).then((result) => {
        if (result.stdout.split("\n")[0]?.trim() === "0") return "root" as const;
        if (result.code === 0) return "sudo" as const;
        // Login banners and shell warnings may come first: sudo's own line names the problem.
        const lines = result.stderr.split("\n").map((l) => l.trim()).filter(Boolean);
        const said = lines.find((l) => /^sudo:/.test(l)) ?? lines.at(-1) ?? `exit ${String(result.code)}`;
        throw this.fail("sudo-password", { reason: said });
      });
      this.privilege.catch(() => undefined);
    }
    return (await this.privilege) === "sudo";
  }

  /**
   * Runs a POSIX sh command and waits for its exit. A non-zero exit is a result, not an error;
   * SshError is thrown when it could not run or finish (connection, sudo, timeout, abort).
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const sudo = await this.privilegeFor(options.sudo ?? false, options.asLogin).catch((error: unknown) => {
      if (error instanceof SshError) this.record(command, true, 0, null, undefined, error.kind, options);
      throw error;
    });
    return this.run(command, options, sudo);
  }

  /** Like exec, with the failure as a value. */
  async tryExec(command: string, options: ExecOptions = {}): Promise<{ ok: true; result: ExecResult } | { ok: false; error: SshError }> {
    try {
      return { ok: true, result: await this.exec(command, options) };
    } catch (error) {
      if (error instanceof SshError) return { ok: false, error };
      throw error;
    }
  }

  private record(
    command: string,
    sudo: boolean,
    durationMs: number,
    startedAt: Date | null,
    result: Pick<ExecResult, "code" | "signal" | "stdout" | "stderr" | "truncated"> | undefined,
    error: SshErrorKind | undefined,
    options: ExecOptions,
  ): void {
    const cut = this.options.logOutputChars ?? 4000;
    const clip = (s: string): string => (s.length > cut ? `${s.slice(0, cut)}…` : s);
    const rec: CommandRecord = {
      host: this.name,
      address: this.address,
      command,
      sudo,
      startedAt: (startedAt ?? new Date()).toISOString(),
      durationMs,
      code: result?.code ?? null,
      signal: result?.signal ?? null,
      stdout: clip(result?.stdout ?? ""),
      stderr: clip(result?.stderr ?? ""),
      truncated: (result?.truncated ?? false) || (result?.stdout.length ?? 0) > cut || (result?.stderr.length ?? 0) > cut,
      ...(options.stdin !== undefined ? { stdinBytes: Buffer.byteLength(options.stdin) } : {}),
      ...(error ? { error } : {}),
    };
    if (this.records.length >= LOG_LIMIT) this.records.shift();
    this.records.push(rec);
    try {
      this.options.onCommand?.(rec);
    } catch {
      // A logging hook must not break grading.
    }
  }

  private async run(command: string, options: ExecOptions, sudo: boolean): Promise<ExecResult> {
    const startedAt = new Date();
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    let connection: Connection;
    try {
      connection = await this.connection();
    } catch (error) {
      if (error instanceof SshError) this.record(command, sudo, elapsed(), startedAt, undefined, error.kind, options);
      throw error;
    }
    const release = await this.slots.take();
    try {
      const result = await this.runOn(connection, command, options, sudo, started);
      this.record(command, sudo, result.durationMs, startedAt, result, undefined, options);
      return result;
    } catch (error) {
      if (error instanceof SshError) {
        this.record(command, sudo, elapsed(), startedAt, error.details.partial ? { code: null, signal: null, truncated: false, ...error.details.partial } : undefined, error.kind, options);
      }
      throw error;
    } finally {
      release();
    }
  }

  private runOn(connection: Connection, command: string, options: ExecOptions, sudo: boolean, started: number): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? this.options.execTimeoutMs;
    const cap = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    const hasStdin = options.stdin !== undefined;
    const wire = remoteCommand(command, { deadlineSeconds: timeoutMs / 1000 + REMOTE_DEADLINE_SLACK_S, stdin: hasStdin, sudo });
    const elapsed = (): number => Math.round(performance.now() - started);

    return new Promise<ExecResult>((resolve, reject) => {
      if (connection.closed) {
        reject(this.fail("disconnected", { reason: "the connection was closed" }));
        return;
      }
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let truncated = false;
      let code: number | null = null;
      let signal: string | null = null;
      let done = false;
      let channel: ExecChannel | undefined;

      const text = (chunks: Buffer[]): string => Buffer.concat(chunks).toString("utf8");
      const partial = () => ({ stdout: text(out), stderr: text(err), durationMs: elapsed() });
      const finish = (outcome: { error: SshError } | { result: ExecResult }): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        connection.closeListeners.delete(onConnectionClose);
        if ("error" in outcome) reject(outcome.error);
        else resolve(outcome.result);
      };
      const kill = (): void => {
        if (!channel) return;
        // Closing is what the remote watchdog acts on. No "signal" request: where sshd honours it
        // (non-root sessions) it would kill the wrapper's group, watchdog included, and miss the
        // command, which runs in a group of its own.
        try {
          channel.close();
        } catch {
          // idem
        }
      };
      const onTimeout = (): void => {
        kill();
        finish({ error: this.fail("exec-timeout", { timeoutMs, command, partial: partial() }) });
      };
      const onAbort = (): void => {
        kill();
        finish({ error: this.fail("exec-timeout", { timeoutMs: elapsed(), command, reason: "stopped by the run", partial: partial() }) });
      };
      const onConnectionClose = (): void => {
        finish({ error: this.fail("disconnected", { reason: "the connection closed while a command ran", command, partial: partial() }) });
      };
      const timer = setTimeout(onTimeout, timeoutMs);
      if (options.signal?.aborted) {
        onAbort();
        return;
      }
      options.signal?.addEventListener("abort", onAbort, { once: true });
      connection.closeListeners.add(onConnectionClose);

      const keep = (chunks: Buffer[], used: number, data: Buffer): number => {
        const room = cap - used;
        if (room <= 0) {
          truncated = true;
          return used;
        }
        if (data.length > room) {
          truncated = true;
          chunks.push(data.subarray(0, room));
          return cap;
        }
        chunks.push(data);
        return used + data.length;
      };

      connection.transport.exec(wire, (error: Error | undefined, stream: ExecChannel) => {
        if (error) {
          finish({ error: this.fail("disconnected", { reason: `could not open a session channel: ${error.message}`, command }) });
          return;
        }
        channel = stream;
        if (done) {
          kill();
          return;
        }
        stream.on("data", (data: Buffer) => {
          outBytes = keep(out, outBytes, data);
        });
        stream.stderr.on("data", (data: Buffer) => {
          errBytes = keep(err, errBytes, data);
        });
        stream.on("exit", (exitCode: number | null, signalName?: string) => {
          if (typeof exitCode === "number") code = exitCode;
          else if (signalName) signal = signalName;
        });
        stream.on("close", () => {
          finish({ result: { command, code, signal, stdout: text(out), stderr: text(err), durationMs: elapsed(), truncated } });
        });
        stream.on("error", (streamError: Error) => {
          finish({ error: this.fail("disconnected", { reason: streamError.message, command, partial: partial() }) });
        });
        // Without data to send, stdin stays open on purpose: its end-of-file is the remote
        // watchdog's sign that the channel is gone.
        if (hasStdin) stream.end(options.stdin);
      });
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

/** The run's SSH connections, one per target name. */
export class SshPool {
  private readonly hosts = new Map<string, SshHost>();

  constructor(
    targets: readonly SshTarget[],
    readonly options: SshPoolOptions,
  ) {
    for (const target of targets) {
      if (this.hosts.has(target.name)) throw new Error(`ssh target "${target.name}" is given twice`);
      // On this machine commands run as the user running hagrade, whatever ssh.user says.
      this.hosts.set(target.name, new SshHost({ ...target, ...(target.local ? { user: localUser() } : {}) }, this, options));
    }
    for (const target of targets) {
      const seen = new Set<string>([target.name]);
      let jump = target.jump;
      while (jump !== undefined) {
        if (!this.hosts.has(jump)) throw new Error(`ssh target "${target.name}" jumps through "${jump}", which is not a target`);
        if (seen.has(jump)) throw new Error(`ssh target "${target.name}" has a jump loop through "${jump}"`);
        seen.add(jump);
        jump = this.hosts.get(jump)?.target.jump;
      }
    }
  }

  has(name: string): boolean {
    return this.hosts.has(name);
  }

  /** The machine called `name`; an unknown name is a programming error and throws. */
  get(name: string): SshHost {
    const host = this.hosts.get(name);
    if (!host) throw new Error(`no ssh target named "${name}" (known: ${[...this.hosts.keys()].join(", ")})`);
    return host;
  }

  names(): string[] {
    return [...this.hosts.keys()];
  }

  /**
   * A new pool to the same machines, with the same credentials and options, that accepts only
   * the given host key fingerprints (per target name) where given: `hagrade restore` reaches a
   * machine only if it is the one a journal recorded.
   */
  withHostKeys(keys: ReadonlyMap<string, string>): SshPool {
    const targets = [...this.hosts.values()].map((h) => {
      const key = keys.get(h.name);
      return key === undefined ? { ...h.target } : { ...h.target, hostKey: key };
    });
    return new SshPool(targets, this.options);
  }

  /** Every command run in this pool, in time order. */
  commandLog(): CommandRecord[] {
    return [...this.hosts.values()].flatMap((h) => h.log).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  }

  /** Closes every connection, jumped ones before the jump hosts they ride on. */
  async closeAll(): Promise<void> {
    const depth = (host: SshHost): number => (host.target.jump ? 1 + depth(this.get(host.target.jump)) : 0);
    const byDepth = [...this.hosts.values()].sort((a, b) => depth(b) - depth(a));
    const levels = [...new Set(byDepth.map(depth))];
    for (const level of levels) await Promise.all(byDepth.filter((h) => depth(h) === level).map((h) => h.close()));
  }
}
