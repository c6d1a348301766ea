/**
 * The balancer's commands when hagrade runs on the balancer itself (`balancer.local`, or found
 * when an address of the balancer is one of this machine's): they run here, as processes, with the
 * wire text an SSH session would get (remote.ts), so quoting, deadlines, the watchdog that kills a
 * command whose channel closed, evidence and the sudo rules are exactly the SSH layer's.
 *
 * Linux only. This is the one module of hagrade that starts processes.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import os from "node:os";
import type { CommandTransport, ExecChannel } from "./channel.js";

/** A login's PATH: the sbin folders too (ipvsadm, apache2ctl, nft), as root's login has them. */
const LOGIN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Whether this machine can run the balancer's commands itself. */
export function localCommandsSupported(platform: NodeJS.Platform = process.platform): boolean {
  return platform === "linux";
}

/** The user local commands run as (what `ssh.user` is over SSH). */
export function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return String(process.getuid?.() ?? "unknown");
  }
}

/**
 * A login's environment, not the grader's: the grader's own variables (a password in the
 * environment, SSH_AUTH_SOCK, SSH_CONNECTION) never reach a command of the lab.
 */
function loginEnvironment(): NodeJS.ProcessEnv {
  const user = localUser();
  return { PATH: LOGIN_PATH, HOME: os.homedir(), USER: user, LOGNAME: user, SHELL: "/bin/sh", LANG: "C.UTF-8" };
}

class LocalChannel extends EventEmitter implements ExecChannel {
  readonly stderr = new EventEmitter();

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    super();
    child.stdout.on("data", (data: Buffer) => this.emit("data", data));
    child.stderr.on("data", (data: Buffer) => this.stderr.emit("data", data));
    // A grader that closed the channel first must not die of EPIPE writing to it.
    child.stdin.on("error", () => undefined);
    child.on("error", (error) => this.emit("error", error));
    child.on("close", (code, signal) => {
      this.emit("exit", code, signal === null ? undefined : signal.replace(/^SIG/, ""));
      this.emit("close");
    });
  }

  end(data?: string | Buffer): void {
    if (data === undefined) this.child.stdin.end();
    else this.child.stdin.end(data);
  }

  close(): void {
    // End-of-file on the wrapper's stdin is what its watchdog waits for, as sshd closing the
    // channel: it kills the command's process group.
    this.child.stdin.end();
  }
}

/** Runs the wire text with this machine's POSIX sh, as sshd runs it with the login shell. */
export function localTransport(): CommandTransport {
  if (!localCommandsSupported()) throw new Error("running the balancer's commands on this machine needs Linux");
  const running = new Set<ChildProcessWithoutNullStreams>();
  return {
    exec(wire, callback) {
      let child: ChildProcessWithoutNullStreams;
      try {
        // detached: a session of its own, as an SSH session is (a Ctrl-C of the grader's terminal
        // does not reach it; the watchdog still sees this process's end as end-of-file).
        const home = os.homedir();
        child = spawn("/bin/sh", ["-c", wire], { cwd: existsSync(home) ? home : "/", env: loginEnvironment(), detached: true, stdio: "pipe" });
      } catch (error) {
        callback(error as Error, undefined as never);
        return;
      }
      running.add(child);
      child.once("close", () => running.delete(child));
      let started = false;
      child.once("spawn", () => {
        started = true;
        callback(undefined, new LocalChannel(child));
      });
      child.once("error", (error) => {
        if (!started) callback(error, undefined as never);
      });
    },
    end() {
      for (const child of running) child.stdin.end();
    },
    destroy() {
      for (const child of running) {
        child.stdin.destroy();
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    },
  };
}
