/**
 * A scripted SSH server for tests: an ssh2 `Server` on loopback whose answer to each command is
 * chosen by the test, and which logs every command it receives. Real sshd (test/ssh/sshd.ts) is
 * for the SSH layer itself; this one is for what the checks do with the answers: a command that
 * is not found (127), prints nothing, is denied, hangs, or prints a truncated or garbage table.
 *
 * hagrade wraps every command (src/ssh/remote.ts): `[sudo -n -- ]sh -c WRAPPER hagrade CMD SECS
 * STDIN`. The server unwraps it, so a script matches the command a check wrote (`ipvsadm -Ln`),
 * and answers as the wrapper would have: the command's output and exit status.
 *
 *     const sshd = await startFakeSshd({ answer: scripted([[/^ipvsadm -Ln/, { code: 127, stderr: "sh: 1: ipvsadm: not found\n" }]]) });
 *     // spec: balancer.ssh { host: sshd.address, port: sshd.port, hostKey: sshd.fingerprint, password: "x" }
 *     sshd.commands(); // [{ command: "ipvsadm -Ln", sudo: false, ... }]
 */
import { createHash } from "node:crypto";
import net from "node:net";
import ssh2, { type Connection, type ServerChannel } from "ssh2";

const { Server, utils } = ssh2;

/** What the server does with one command. */
export interface FakeAnswer {
  stdout?: string | Buffer;
  stderr?: string | Buffer;
  /** Exit status (default 0); null sends no status at all (the channel just closes). */
  code?: number | null;
  /** End by this signal ("KILL", "TERM") instead of an exit status. */
  signal?: string;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer: the command hangs until the client gives up and closes the channel. */
  hang?: boolean;
  /** Drop the whole connection instead of answering (a link that dies mid-command). */
  disconnect?: boolean;
}

/** One command as the server received it. */
export interface ReceivedCommand {
  /** The command a check wrote, unwrapped from hagrade's remote wrapper (the raw text if it was not wrapped). */
  command: string;
  /** Sent through `sudo -n --`. */
  sudo: boolean;
  /** The text on the wire, as sshd would have received it. */
  wire: string;
  /** The wrapper's own deadline in seconds (undefined when not wrapped). */
  deadlineSeconds?: number;
  /** Data the client sent on stdin (commands with stdin only). */
  stdin?: string;
  user: string;
  at: number;
}

export type FakeScript = (command: ReceivedCommand) => FakeAnswer | Promise<FakeAnswer>;

export interface FakeSshdOptions {
  /** Loopback address to listen on (default 127.0.0.1); port 0 picks a free one. */
  address?: string;
  port?: number;
  answer: FakeScript;
  /**
   * Who may log in: "any" (default) accepts every user with any password or key; "refuse" rejects
   * every attempt (the grader's credentials refused); a function decides per user and password.
   */
  auth?: "any" | "refuse" | ((user: string, password: string | undefined) => boolean);
  /**
   * Direct-tcpip channels (ssh2's forwardOut, how hagrade jumps to a web server): where to connect
   * for a destination, or undefined to refuse it. Default: refuse every forward.
   */
  forward?: (destination: { host: string; port: number }) => { host: string; port: number } | undefined;
}

export interface FakeSshd {
  address: string;
  port: number;
  /** "SHA256:..." of the host key, for the spec's `hostKey` pin. */
  fingerprint: string;
  /** Every command received so far, oldest first (the privilege probe included). */
  commands(): ReceivedCommand[];
  /** The commands a check wrote, without hagrade's own privilege probe. */
  checkCommands(): ReceivedCommand[];
  /** Replaces the script (one server for several cases). */
  setAnswer(answer: FakeScript): void;
  stop(): Promise<void>;
}

/** hagrade's privilege probe (src/ssh/remote.ts PRIVILEGE_PROBE) starts with this. */
const PRIVILEGE_PROBE_START = "u=$(id -u);";

/**
 * A script from rules, first match wins: a rule matches a command by prefix (string), pattern,
 * or predicate. Unmatched commands get `otherwise` (default: exit 127, "not found", as sh says).
 */
export function scripted(
  rules: readonly (readonly [string | RegExp | ((c: ReceivedCommand) => boolean), FakeAnswer | ((c: ReceivedCommand) => FakeAnswer)])[],
  otherwise?: FakeAnswer | ((c: ReceivedCommand) => FakeAnswer),
): FakeScript {
  return (received) => {
    for (const [match, answer] of rules) {
      const hit =
        typeof match === "string" ? received.command.startsWith(match) : match instanceof RegExp ? match.test(received.command) : match(received);
      if (hit) return typeof answer === "function" ? answer(received) : answer;
    }
    if (otherwise !== undefined) return typeof otherwise === "function" ? otherwise(received) : otherwise;
    const word = received.command.trim().split(/\s+/)[0] ?? "";
    return { code: 127, stderr: `sh: 1: ${word}: not found\n` };
  };
}

/** Reads one POSIX sh word at `i` (quotes and backslashes as sh reads them); returns it and where it ended. */
function readWord(text: string, start: number): { word: string; end: number } | undefined {
  let i = start;
  while (i < text.length && /\s/.test(text[i]!)) i += 1;
  if (i >= text.length) return undefined;
  let word = "";
  while (i < text.length && !/\s/.test(text[i]!)) {
    const c = text[i]!;
    if (c === "'") {
      const close = text.indexOf("'", i + 1);
      if (close < 0) return undefined;
      word += text.slice(i + 1, close);
      i = close + 1;
    } else if (c === "\\") {
      word += text[i + 1] ?? "";
      i += 2;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        if (text[j] === "\\" && j + 1 < text.length) {
          word += text[j + 1];
          j += 2;
        } else {
          word += text[j];
          j += 1;
        }
      }
      i = j + 1;
    } else {
      word += c;
      i += 1;
    }
  }
  return { word, end: i };
}

/** Splits a command line into sh words; undefined on an unterminated quote. */
export function shWords(text: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  for (;;) {
    const next = readWord(text, i);
    if (!next) {
      if (text.slice(i).trim() !== "") return undefined;
      return words;
    }
    words.push(next.word);
    i = next.end;
  }
}

/** hagrade's wire format back into the check's command. */
export function unwrap(wire: string): Pick<ReceivedCommand, "command" | "sudo" | "deadlineSeconds"> & { stdin: boolean } {
  const words = shWords(wire);
  if (!words) return { command: wire, sudo: false, stdin: false };
  let rest = words;
  let sudo = false;
  if (rest[0] === "sudo" && rest[1] === "-n" && rest[2] === "--") {
    sudo = true;
    rest = rest.slice(3);
  }
  if (rest.length === 7 && rest[0] === "sh" && rest[1] === "-c" && rest[3] === "hagrade") {
    return { command: rest[4]!, sudo, deadlineSeconds: Number(rest[5]), stdin: rest[6] === "1" };
  }
  return { command: wire, sudo, stdin: false };
}

function fingerprintOf(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(publicKeyBlob).digest("base64").replace(/=+$/, "")}`;
}

export async function startFakeSshd(options: FakeSshdOptions): Promise<FakeSshd> {
  const address = options.address ?? "127.0.0.1";
  // ssh2's generator now and then writes an ed25519 public key its own parser refuses: draw again.
  let keys = utils.generateKeyPairSync("ed25519");
  let parsed = utils.parseKey(keys.public);
  for (let i = 0; i < 8 && parsed instanceof Error; i++) {
    keys = utils.generateKeyPairSync("ed25519");
    parsed = utils.parseKey(keys.public);
  }
  if (parsed instanceof Error) throw parsed;
  const fingerprint = fingerprintOf(parsed.getPublicSSH());
  let answer = options.answer;
  const received: ReceivedCommand[] = [];
  const connections = new Set<Connection>();
  const sockets = new Set<net.Socket>();

  const allowed = (user: string, password: string | undefined): boolean => {
    const auth = options.auth ?? "any";
    if (auth === "any") return true;
    if (auth === "refuse") return false;
    return auth(user, password);
  };

  const runCommand = (channel: ServerChannel, record: ReceivedCommand, connection: Connection): void => {
    let closed = false;
    channel.on("close", () => (closed = true));
    const respond = async (): Promise<void> => {
      let reply: FakeAnswer;
      try {
        reply = await answer(record);
      } catch (error) {
        reply = { code: 1, stderr: `fake sshd script error: ${error instanceof Error ? error.message : String(error)}\n` };
      }
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
      if (closed) return;
      if (reply.disconnect) {
        connection.end();
        return;
      }
      if (reply.hang) return; // the client's deadline closes the channel
      if (reply.stdout !== undefined && reply.stdout.length > 0) channel.write(reply.stdout);
      if (reply.stderr !== undefined && reply.stderr.length > 0) channel.stderr.write(reply.stderr);
      if (reply.signal !== undefined) channel.exit(reply.signal, false, "");
      else if (reply.code !== null) channel.exit(reply.code ?? 0);
      channel.end();
    };
    void respond();
  };

  const server = new Server({ hostKeys: [keys.private] }, (connection) => {
    connections.add(connection);
    connection.on("close", () => connections.delete(connection));
    connection.on("error", () => undefined);
    let user = "";
    connection.on("authentication", (ctx) => {
      user = ctx.username;
      if (ctx.method === "none") return ctx.reject(["password", "publickey", "keyboard-interactive"]);
      if (ctx.method === "password") return allowed(ctx.username, ctx.password) ? ctx.accept() : ctx.reject();
      if (ctx.method === "publickey") return allowed(ctx.username, undefined) ? ctx.accept() : ctx.reject();
      if (ctx.method === "keyboard-interactive") {
        return ctx.prompt([{ prompt: "Password: ", echo: false }], (answers) => (allowed(ctx.username, answers[0]) ? ctx.accept() : ctx.reject()));
      }
      return ctx.reject();
    });
    connection.on("ready", () => {
      connection.on("session", (acceptSession) => {
        const session = acceptSession();
        session.on("exec", (acceptExec, _reject, request) => {
          const channel = acceptExec();
          const unwrapped = unwrap(request.command);
          const record: ReceivedCommand = {
            command: unwrapped.command,
            sudo: unwrapped.sudo,
            wire: request.command,
            ...(unwrapped.deadlineSeconds !== undefined ? { deadlineSeconds: unwrapped.deadlineSeconds } : {}),
            user,
            at: Date.now(),
          };
          received.push(record);
          if (!unwrapped.stdin) {
            // Like the wrapper's watchdog, stdin stays open; it is read only to keep flow control going.
            channel.on("data", () => undefined);
            runCommand(channel, record, connection);
            return;
          }
          const chunks: Buffer[] = [];
          channel.on("data", (data: Buffer) => chunks.push(data));
          channel.once("end", () => {
            record.stdin = Buffer.concat(chunks).toString("utf8");
            runCommand(channel, record, connection);
          });
        });
        // A shell or pty request is not something hagrade makes: refuse it.
        session.on("shell", (_accept, reject) => reject());
        session.on("pty", (_accept, reject) => reject?.());
      });
      connection.on("tcpip", (accept, reject, destination) => {
        const to = options.forward?.({ host: destination.destIP, port: destination.destPort });
        if (!to) return reject();
        const socket = net.connect({ host: to.host, port: to.port });
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        socket.once("error", () => {
          socket.destroy();
        });
        socket.once("connect", () => {
          const channel = accept();
          channel.pipe(socket).pipe(channel);
          channel.on("close", () => socket.destroy());
          socket.on("close", () => channel.close());
        });
        socket.once("error", () => reject());
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    address,
    port,
    fingerprint,
    commands: () => [...received],
    checkCommands: () => received.filter((c) => !c.command.startsWith(PRIVILEGE_PROBE_START)),
    setAnswer(next) {
      answer = next;
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      for (const connection of connections) connection.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
