/**
 * Running commands on one lab machine's open connection (connection.ts): the wire text with its
 * remote deadline (remote.ts), the grader's own deadline, abort, stdin, caps on output, `sudo -n`
 * for privileged commands where the login is not root (probed once per machine), a bound on
 * concurrent channels, and the command log every command leaves behind for evidence.
 */
import { ev, type SshCommandEvidence } from "../model/index.js";
import type { ExecChannel } from "./channel.js";
import type { Connection, HostConnector } from "./connection.js";
import { SshError, type SshErrorKind } from "./errors.js";
import { PRIVILEGE_PROBE, remoteCommand } from "./remote.js";

export type SudoMode = "auto" | "always" | "never";

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

/** What running commands needs (part of SshPoolOptions). */
export interface CommandOptions {
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

/** The commands run on one machine: its sudo decision, its channel slots and its command log. */
export class CommandRunner {
  private privilege?: Promise<"root" | "sudo">;
  private readonly records: CommandRecord[] = [];
  private readonly slots: Slots;

  constructor(
    private readonly host: HostConnector,
    private readonly options: CommandOptions,
  ) {
    this.slots = new Slots(options.maxChannelsPerHost ?? 8);
  }

  /** Commands run on this machine so far (oldest first). */
  get log(): readonly CommandRecord[] {
    return this.records;
  }

  /** Whether privileged commands need a `sudo -n` prefix here; checked once per machine. */
  private async privilegeFor(wantsRoot: boolean, asLogin = false): Promise<boolean> {
    const mode = this.options.sudo;
    if (asLogin || mode === "never" || !(wantsRoot || mode === "always") || this.host.target.user === "root") return false;
    if (!this.privilege) {
      this.privilege = this.run(PRIVILEGE_PROBE, { sudo: false }, false).then((result) => {
        if (result.stdout.split("\n")[0]?.trim() === "0") return "root" as const;
        if (result.code === 0) return "sudo" as const;
        // Login banners and shell warnings may come first: sudo's own line names the problem.
        const lines = result.stderr.split("\n").map((l) => l.trim()).filter(Boolean);
        const said = lines.find((l) => /^sudo:/.test(l)) ?? lines.at(-1) ?? `exit ${String(result.code)}`;
        throw this.host.fail("sudo-password", { reason: said });
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
      host: this.host.name,
      address: this.host.address,
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
      connection = await this.host.connection();
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
        reject(this.host.fail("disconnected", { reason: "the connection was closed" }));
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
        finish({ error: this.host.fail("exec-timeout", { timeoutMs, command, partial: partial() }) });
      };
      const onAbort = (): void => {
        kill();
        finish({ error: this.host.fail("exec-timeout", { timeoutMs: elapsed(), command, reason: "stopped by the run", partial: partial() }) });
      };
      const onConnectionClose = (): void => {
        finish({ error: this.host.fail("disconnected", { reason: "the connection closed while a command ran", command, partial: partial() }) });
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
          finish({ error: this.host.fail("disconnected", { reason: `could not open a session channel: ${error.message}`, command }) });
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
          finish({ error: this.host.fail("disconnected", { reason: streamError.message, command, partial: partial() }) });
        });
        // Without data to send, stdin stays open on purpose: its end-of-file is the remote
        // watchdog's sign that the channel is gone.
        if (hasStdin) stream.end(options.stdin);
      });
    });
  }
}

/** A command record (see SshHost.log) as evidence for a verdict. */
export function sshCommandEvidence(record: CommandRecord): SshCommandEvidence {
  return ev.sshCommand(record);
}
