/**
 * What carries one command to a lab machine and back: an SSH session channel (connection.ts), or
 * a process on this machine when hagrade runs on the balancer itself (local.ts). Both receive the
 * same wire text (remote.ts), so quoting, deadlines and the kill-on-close watchdog are one code.
 */

/** One running command: its output streams, its exit, and closing it (which ends the command). */
export interface ExecChannel {
  on(event: "data", listener: (data: Buffer) => void): unknown;
  /** code, or null and the signal's name ("KILL") when it ended by a signal. */
  on(event: "exit", listener: (code: number | null, signal?: string) => void): unknown;
  on(event: "close", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  readonly stderr: { on(event: "data", listener: (data: Buffer) => void): unknown };
  /** Sends data on the command's stdin and closes it. */
  end(data?: string | Buffer): void;
  /** Gives the command up: the wrapper's watchdog kills it (see remote.ts). */
  close(): void;
}

/** Opens command channels on one machine. */
export interface CommandTransport {
  /** Starts the wire text (a POSIX sh command line) and hands its channel back, or why not. */
  exec(wire: string, callback: (error: Error | undefined, channel: ExecChannel) => void): void;
  /** Lets go of the machine gently (running commands see their channel close). */
  end(): void;
  /** Lets go at once. */
  destroy(): void;
}
