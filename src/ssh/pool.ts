/**
 * The run's SSH layer as checks see it: one connection per lab machine for the whole run, opened
 * on first use and shared by every check, web servers reached through the balancer's connection.
 * SshPool names the machines and closes them; SshHost is one machine, the connection it rides on
 * (connection.ts) and the commands run on it (exec.ts).
 */
import type { Client } from "ssh2";
import { HostConnector, type ConnectInfo, type ConnectOptions, type SshTarget } from "./connection.js";
import { CommandRunner, type CommandOptions, type CommandRecord, type ExecOptions, type ExecResult } from "./exec.js";
import type { SshError, SshHostRef } from "./errors.js";
import { localUser } from "./local.js";

export { keyboardInteractiveAnswers, type ConnectInfo, type SshTarget } from "./connection.js";
export type { CommandRecord, ExecOptions, ExecResult, SudoMode } from "./exec.js";

/** What the pool's connections (connection.ts) and commands (exec.ts) need. */
export interface SshPoolOptions extends ConnectOptions, CommandOptions {}

/** One lab machine. Get it from `SshPool.get(name)`. */
export class SshHost {
  readonly name: string;
  /** user@host:port, " via <jump>" when jumped: safe to show. */
  readonly address: string;
  private readonly connector: HostConnector;
  private readonly commands: CommandRunner;

  constructor(
    readonly target: Readonly<SshTarget>,
    pool: SshPool,
    options: SshPoolOptions,
  ) {
    this.connector = new HostConnector(target, pool, options);
    this.commands = new CommandRunner(this.connector, options);
    this.name = this.connector.name;
    this.address = this.connector.address;
  }

  get ref(): SshHostRef {
    return this.connector.ref;
  }

  /** Commands run on this machine so far (oldest first). */
  get log(): readonly CommandRecord[] {
    return this.commands.log;
  }

  /** Host key seen on the last successful connection. */
  get hostKey(): ConnectInfo | undefined {
    return this.connector.hostKey;
  }

  /** Connects now (or reuses the connection); throws SshError. Useful as a preflight. */
  async connect(): Promise<ConnectInfo> {
    return (await this.connector.connection()).info;
  }

  /** The live ssh2 client, for the jump of another target (a local target has none). */
  async client(): Promise<Client> {
    return this.connector.client();
  }

  /**
   * Runs a POSIX sh command and waits for its exit. A non-zero exit is a result, not an error;
   * SshError is thrown when it could not run or finish (connection, sudo, timeout, abort).
   */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    return this.commands.exec(command, options);
  }

  /** Like exec, with the failure as a value. */
  async tryExec(command: string, options: ExecOptions = {}): Promise<{ ok: true; result: ExecResult } | { ok: false; error: SshError }> {
    return this.commands.tryExec(command, options);
  }

  /** Closes this machine's connection (a later exec reconnects). */
  async close(): Promise<void> {
    return this.connector.close();
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
