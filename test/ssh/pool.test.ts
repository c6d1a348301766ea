import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshError, SshPool, sh, shQuote, shRaw, sshErrorBlame, sshCommandEvidence, sshErrorOutcome, sshErrorVerdict, type CommandRecord, type SshPoolOptions, type SshTarget } from "../../src/ssh/index.js";
import { keygenFingerprint, makeClientKey, makeTempDir, processAlive, startSshd, waitUntil, type ClientKey, type Sshd } from "./sshd.js";

// Loopback addresses of this file only, so test files running side by side do not collide.
const BALANCER = "127.0.0.21";
const WEBSERVER = "127.0.0.22";
const SILENT = "127.0.0.23";

let dir: string;
let key: ClientKey;
let strangerKey: ClientKey;
let balancer: Sshd;
let webserver: Sshd;
let knownHosts: string;
const pools: SshPool[] = [];

const baseOptions: SshPoolOptions = { acceptNewHostKeys: false, connectTimeoutMs: 5000, execTimeoutMs: 10_000, sudo: "auto" };

function targets(overrides: Partial<Record<"balancer" | "webserver1", Partial<SshTarget>>> = {}): SshTarget[] {
  return [
    { name: "balancer", host: BALANCER, port: 2222, user: "root", privateKeyPath: key.privateKeyPath, knownHostsPath: knownHosts, ...overrides.balancer },
    {
      name: "webserver1",
      host: WEBSERVER,
      port: 2222,
      user: "root",
      privateKeyPath: key.privateKeyPath,
      knownHostsPath: knownHosts,
      jump: "balancer",
      ...overrides.webserver1,
    },
  ];
}

function newPool(t: SshTarget[] = targets(), options: Partial<SshPoolOptions> = {}): SshPool {
  const pool = new SshPool(t, { ...baseOptions, ...options });
  pools.push(pool);
  return pool;
}

async function expectSshError(promise: Promise<unknown>): Promise<SshError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SshError);
    return error as SshError;
  }
  throw new Error("expected an SshError");
}

const count = (text: string, re: RegExp): number => text.split("\n").filter((l) => re.test(l)).length;

beforeAll(async () => {
  dir = makeTempDir("hagrade-ssh-pool-");
  key = makeClientKey(dir, "id_grader");
  strangerKey = makeClientKey(dir, "id_stranger");
  balancer = await startSshd({ address: BALANCER, authorizedKeys: [key.publicKey], logLevel: "DEBUG1" });
  webserver = await startSshd({ address: WEBSERVER, authorizedKeys: [key.publicKey] });
  knownHosts = path.join(dir, "known_hosts");
  writeFileSync(knownHosts, `[${BALANCER}]:2222 ${balancer.hostPublicKey}\n[${WEBSERVER}]:2222 ${webserver.hostPublicKey}\n`);
});

afterAll(async () => {
  await Promise.allSettled(pools.map((p) => p.closeAll()));
  await balancer?.stop();
  await webserver?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("exec on a real sshd", () => {
  it("returns exit codes with stdout and stderr apart", async () => {
    const host = newPool().get("balancer");
    const failing = await host.exec("echo out; echo err >&2; exit 3");
    expect(failing).toMatchObject({ code: 3, signal: null, stdout: "out\n", stderr: "err\n", truncated: false });
    const ok = await host.exec("printf 'a\\nb'");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("a\nb");
    expect(ok.stderr).toBe("");
    expect(ok.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("passes hostile values as single words with shQuote and sh``", async () => {
    const host = newPool().get("balancer");
    const hostile = `it's "$(echo pwned)"; \`echo x\` $HOME * \\ \n end`;
    const viaTag = await host.exec(sh`printf %s ${hostile}`);
    expect(viaTag.stdout).toBe(hostile);
    const viaQuote = await host.exec(`printf '%s|' ${shQuote("")} ${shQuote("a b")} ${["x", "y"].map(shQuote).join(" ")}`);
    expect(viaQuote.stdout).toBe("|a b|x|y|");
    const words = await host.exec(sh`printf '%s|' ${["one two", "three"]} ${shRaw("| tr a-z A-Z")}`);
    expect(words.stdout).toBe("ONE TWO|THREE|");
    expect(() => shQuote("a\0b")).toThrow(/NUL/);
  });

  it("feeds stdin when given, and gives commands that read stdin an empty one otherwise", async () => {
    const host = newPool().get("balancer");
    const fed = await host.exec("cat; echo done", { stdin: "Bienvenido a webserver1\n" });
    expect(fed.stdout).toBe("Bienvenido a webserver1\ndone\n");
    const empty = await host.exec("wc -c");
    expect(empty.stdout.trim()).toBe("0");
  });

  it("caps output and says it was cut", async () => {
    const host = newPool().get("balancer");
    const result = await host.exec("head -c 300000 /dev/zero | tr '\\0' a; echo tail >&2", { maxOutputBytes: 1000 });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("a".repeat(1000));
    expect(result.stderr).toBe("tail\n");
    expect(result.truncated).toBe(true);
  });

  it("runs with sbin on PATH and the C locale", async () => {
    const result = await newPool().get("balancer").exec('echo "$PATH"; echo "$LC_ALL"');
    const [pathLine, locale] = result.stdout.split("\n");
    expect(pathLine?.split(":")).toContain("/usr/sbin");
    expect(locale).toBe("C");
  });

  it("keeps a per-host command log and calls onCommand", async () => {
    const seen: CommandRecord[] = [];
    const pool = newPool(targets(), { onCommand: (r) => seen.push(r) });
    const host = pool.get("balancer");
    await host.exec("echo one");
    await host.exec("exit 7", { stdin: "secret-ish input" });
    expect(host.log.map((r) => [r.command, r.code])).toEqual([
      ["echo one", 0],
      ["exit 7", 7],
    ]);
    expect(host.log[0]?.stdout).toBe("one\n");
    expect(host.log[1]?.stdinBytes).toBe(16);
    expect(JSON.stringify(host.log)).not.toContain("secret-ish");
    expect(seen).toHaveLength(2);
    expect(pool.commandLog()).toHaveLength(2);
    expect(sshCommandEvidence(host.log[1] as CommandRecord)).toMatchObject({ kind: "ssh-command", host: "balancer", command: "exit 7", code: 7 });
  });
});

describe("one connection per host for the whole run", () => {
  it("reuses the connection: concurrent first callers share the pending connect", async () => {
    const before = balancer.log();
    const pool = newPool();
    const host = pool.get("balancer");
    const marker = `reuse-${Date.now()}`;
    await Promise.all(Array.from({ length: 5 }, (_, i) => host.exec(`echo ${marker}-${i}`)));
    for (let i = 0; i < 4; i++) await host.exec(`echo ${marker}-seq-${i}`);
    await pool.closeAll();
    await waitUntil(() => count(balancer.log().slice(before.length), /Disconnected from user root/) >= 1, 5000);
    const added = balancer.log().slice(before.length);
    expect(count(added, /Connection from .* port \d+ on 127\.0\.0\.21 port 2222/)).toBe(1);
    expect(count(added, /Starting session: command for root/)).toBe(9);
  });

  it("reaches the web server through the balancer, reusing the balancer's connection as jump", async () => {
    const balancerBefore = balancer.log().length;
    const webBefore = webserver.log().length;
    const pool = newPool();
    const web = pool.get("webserver1");
    const lb = pool.get("balancer");
    const results = await Promise.all([web.exec("echo $SSH_CONNECTION"), web.exec("hostname"), lb.exec("true"), web.exec("true")]);
    expect(results.every((r) => r.code === 0)).toBe(true);
    // The server sees a connection to its own address and port.
    expect(results[0]?.stdout.trim().split(" ").slice(2)).toEqual([WEBSERVER, "2222"]);
    expect(web.address).toBe(`root@${WEBSERVER}:2222 via balancer`);
    await pool.closeAll();
    await waitUntil(() => count(balancer.log().slice(balancerBefore), /Disconnected from user root/) >= 1, 5000);
    const lbLog = balancer.log().slice(balancerBefore);
    const webLog = webserver.log().slice(webBefore);
    expect(count(lbLog, /Connection from/)).toBe(1);
    expect(count(lbLog, /direct-tcpip.*127\.0\.0\.22 port 2222|target 127\.0\.0\.22 port 2222/)).toBe(1);
    expect(count(lbLog, /Starting session: command/)).toBe(1);
    expect(count(webLog, /Connection from/)).toBe(1);
    expect(count(webLog, /Starting session: command/)).toBe(3);
  });

  it("reconnects after the connection is lost; the command in flight fails as disconnected", async () => {
    const pool = newPool();
    const host = pool.get("balancer");
    // The command reports its sshd session process (first ancestor named sshd): killing that one
    // drops exactly this connection.
    const findSession = 'p=$$; while [ "$p" -gt 1 ]; do [ "$(ps -o comm= -p "$p")" = sshd ] && { echo "$p"; break; }; p=$(ps -o ppid= -p "$p" | tr -d " "); done';
    const first = await host.exec(findSession);
    const sessionPid = Number(first.stdout.trim());
    expect(sessionPid).toBeGreaterThan(1);
    expect(readFileSync(`/proc/${sessionPid}/cmdline`, "utf8")).toMatch(/^sshd: root@notty/);
    const inflight = host.exec("exec sleep 305", { timeoutMs: 20_000 });
    await waitUntil(async () => (await findPids("^sleep 305$")).length > 0, 5000);
    process.kill(sessionPid, "SIGKILL");
    const error = await expectSshError(inflight);
    expect(error.kind).toBe("disconnected");
    const again = await host.exec(findSession);
    expect(Number(again.stdout.trim())).not.toBe(sessionPid);
    // The remote watchdog saw the channel go and killed the sleeper.
    expect(await waitUntil(async () => (await findPids("sleep 305")).length === 0, 8000)).toBe(true);
  });
});

async function findPids(pattern: string): Promise<number[]> {
  const { execFileSync } = await import("node:child_process");
  try {
    return execFileSync("pgrep", ["-f", pattern], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe("deadlines kill the remote command", () => {
  it("kills a command that outlives its timeout, and its children, also when it ignores TERM", async () => {
    const host = newPool().get("balancer");
    // Connected first, and a deadline long enough for the command to print on a loaded machine:
    // what is tested is what happens at the deadline, not how fast sshd starts a session.
    await host.exec("true");
    const error = await expectSshError(host.exec("trap '' TERM HUP INT; sleep 301 & echo $$ $!; wait", { timeoutMs: 4000 }));
    expect(error.kind).toBe("exec-timeout");
    expect(error.host.name).toBe("balancer");
    const pids = (error.details.partial?.stdout ?? "").trim().split(" ").map(Number);
    expect(pids).toHaveLength(2);
    expect(pids.every((p) => p > 1)).toBe(true);
    expect(await waitUntil(() => pids.every((p) => !processAlive(p)), 8000)).toBe(true);
    // Nor is anything of the wrapper left (its helpers carry the command in their command line).
    expect(await waitUntil(async () => (await findPids("sleep 301")).length === 0, 8000)).toBe(true);
    // The connection survives a timed-out command.
    expect((await host.exec("echo alive")).stdout).toBe("alive\n");
    expect(sshErrorOutcome(error)).toBe("inconclusive");
  });

  it("kills through the jump host as well", async () => {
    const host = newPool().get("webserver1");
    await host.exec("true");
    const error = await expectSshError(host.exec("echo $$; exec sleep 302", { timeoutMs: 4000 }));
    expect(error.kind).toBe("exec-timeout");
    const pid = Number(error.details.partial?.stdout.trim());
    expect(pid).toBeGreaterThan(1);
    expect(await waitUntil(() => !processAlive(pid), 8000)).toBe(true);
    expect(await waitUntil(async () => (await findPids("sleep 302")).length === 0, 8000)).toBe(true);
  });

  it("a command fed on stdin is killed by the remote deadline", async () => {
    const host = newPool().get("balancer");
    await host.exec("true");
    const error = await expectSshError(host.exec("cat >/dev/null; echo $$; exec sleep 303", { timeoutMs: 4000, stdin: "x" }));
    expect(error.kind).toBe("exec-timeout");
    const pid = Number(error.details.partial?.stdout.trim());
    expect(pid).toBeGreaterThan(1);
    // No watchdog on stdin here: the remote deadline (timeout + 2 s) ends it.
    expect(await waitUntil(() => !processAlive(pid), 10_000)).toBe(true);
    expect(await waitUntil(async () => (await findPids("sleep 303")).length === 0, 8000)).toBe(true);
  });

  it("an abort signal stops the command the same way", async () => {
    const host = newPool().get("balancer");
    const controller = new AbortController();
    const running = host.exec("echo $$; exec sleep 304", { timeoutMs: 20_000, signal: controller.signal });
    await waitUntil(async () => (await findPids("^sleep 304$")).length > 0, 5000);
    controller.abort();
    const error = await expectSshError(running);
    expect(error.kind).toBe("exec-timeout");
    expect(await waitUntil(async () => (await findPids("sleep 304")).length === 0, 8000)).toBe(true);
  });
});

describe("connection failures are typed", () => {
  it("a key the server does not accept → auth", async () => {
    const pool = newPool(targets({ balancer: { privateKeyPath: strangerKey.privateKeyPath } }));
    const error = await expectSshError(pool.get("balancer").exec("true"));
    expect(error.kind).toBe("auth");
    expect(error.host).toEqual({ name: "balancer", address: `root@${BALANCER}:2222` });
    expect(error.text.es).toContain("balancer");
    expect(error.fix.en).toContain("authorized_keys");
    expect(sshErrorBlame(error)).toBe("grader");
    expect(sshErrorOutcome(error)).toBe("error");
    const verdict = sshErrorVerdict(error);
    expect(verdict).toMatchObject({ outcome: "error", message: error.text, fix: error.fix });
    expect(verdict.evidence[0]).toMatchObject({ kind: "ssh-error", error: { kind: "auth", host: error.host } });
    // Credentials do not fix themselves: the next call fails at once with the same error.
    expect(await expectSshError(pool.get("balancer").exec("true"))).toBe(error);
  });

  it("nothing listening → refused", async () => {
    const pool = newPool(targets({ balancer: { port: 2299 } }));
    const error = await expectSshError(pool.get("balancer").exec("true"));
    expect(error.kind).toBe("refused");
    expect(sshErrorBlame(error)).toBe("lab");
  });

  it("a TCP listener that never speaks SSH → timeout within the bound", async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(2223, SILENT, resolve));
    try {
      const pool = newPool(targets({ balancer: { host: SILENT, port: 2223 } }), { connectTimeoutMs: 800 });
      const bound = new Promise<"bound">((resolve) => setTimeout(() => resolve("bound"), 10_000));
      const outcome = await Promise.race([pool.get("balancer").exec("true").catch((e: unknown) => e), bound]);
      expect(outcome).toBeInstanceOf(SshError);
      expect((outcome as SshError).kind).toBe("timeout");
      expect(sockets.length).toBe(1);
      // The same silent machine behind the balancer: the jump works, the inner handshake times out.
      const jumped = newPool(targets({ webserver1: { host: SILENT, port: 2223 } }), { connectTimeoutMs: 800 });
      const inner = await Promise.race([jumped.get("webserver1").exec("true").catch((e: unknown) => e), bound]);
      expect(inner).toBeInstanceOf(SshError);
      expect((inner as SshError).kind).toBe("timeout");
      expect((inner as SshError).host.address).toBe(`root@${SILENT}:2223 via balancer`);
      expect(sockets.length).toBe(2);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("a missing or encrypted key → key-unreadable, without the passphrase in any text", async () => {
    const missing = newPool(targets({ balancer: { privateKeyPath: path.join(dir, "nope") } }));
    const e1 = await expectSshError(missing.get("balancer").exec("true"));
    expect(e1.kind).toBe("key-unreadable");
    expect(e1.text.en).toContain(path.join(dir, "nope"));

    const passphrase = "correct horse battery";
    const encrypted = makeClientKey(dir, "id_encrypted", { passphrase });
    const noPass = newPool(targets({ balancer: { privateKeyPath: encrypted.privateKeyPath } }));
    const e2 = await expectSshError(noPass.get("balancer").exec("true"));
    expect(e2.kind).toBe("key-unreadable");
    const wrong = newPool(targets({ balancer: { privateKeyPath: encrypted.privateKeyPath, passphrase: "wrong-pass-phrase" } }));
    const e3 = await expectSshError(wrong.get("balancer").exec("true"));
    expect(e3.kind).toBe("key-unreadable");
    const everything = JSON.stringify([e2, e3].map((e) => ({ ...e.toJSON(), message: e.message, stack: e.stack })));
    expect(everything).not.toContain("wrong-pass-phrase");
    expect(everything).not.toContain("PRIVATE KEY");
  });

  it("a web server the balancer cannot reach → jump-failed, blamed on the lab", async () => {
    const pool = newPool(targets({ webserver1: { port: 2299 } }));
    const error = await expectSshError(pool.get("webserver1").exec("true"));
    expect(error.kind).toBe("jump-failed");
    expect(error.text.en).toMatch(/through balancer/);
    expect(error.text.en).toMatch(/refused/i);
    expect(sshErrorBlame(error)).toBe("lab");
    // The balancer itself is fine.
    expect((await pool.get("balancer").exec("echo ok")).stdout).toBe("ok\n");
  });

  it("a jump host that rejects the key → jump-failed carrying the cause", async () => {
    const pool = newPool(targets({ balancer: { privateKeyPath: strangerKey.privateKeyPath } }));
    const error = await expectSshError(pool.get("webserver1").exec("true"));
    expect(error.kind).toBe("jump-failed");
    expect(error.details.cause?.kind).toBe("auth");
    expect(sshErrorBlame(error)).toBe("grader");
  });

  it("refuses bad pool definitions", () => {
    expect(() => new SshPool(targets({ webserver1: { jump: "nowhere" } }), baseOptions)).toThrow(/nowhere/);
    expect(() => new SshPool([...targets(), ...targets()], baseOptions)).toThrow(/twice/);
  });
});

/** A real OpenSSH agent (ssh-agent -D, in the foreground, as this test's child) holding `keys`. */
interface Agent {
  socket: string;
  stop(): Promise<void>;
}

async function startAgent(name: string, keys: ClientKey[]): Promise<Agent> {
  const socket = path.join(dir, `${name}.sock`);
  const child: ChildProcess = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(socket, { force: true });
  };
  try {
    if (!(await waitUntil(() => existsSync(socket), 5000))) throw new Error(`ssh-agent did not create ${socket}`);
    for (const key of keys) await execFileAsync("ssh-add", ["-q", key.privateKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
  } catch (error) {
    await stop();
    throw error;
  }
  return { socket, stop };
}

async function execFileAsync(file: string, args: string[], options: { env: NodeJS.ProcessEnv }): Promise<string> {
  const { execFile } = await import("node:child_process");
  return new Promise((resolve, reject) =>
    execFile(file, args, { ...options, timeout: 10_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${file}: ${stderr || error.message}`)) : resolve(stdout))),
  );
}

describe("login through a real ssh-agent", () => {
  const withoutKeyFile = (agent: string | boolean): Partial<Record<"balancer" | "webserver1", Partial<SshTarget>>> => ({
    balancer: { privateKeyPath: undefined, agent },
    webserver1: { privateKeyPath: undefined, agent },
  });

  it("logs in with the agent's key alone, on the balancer and through it on the web server", async () => {
    const agent = await startAgent("agent-grader", [key]);
    try {
      const listed = await execFileAsync("ssh-add", ["-l"], { env: { ...process.env, SSH_AUTH_SOCK: agent.socket } });
      const fingerprint = keygenFingerprint(`${key.privateKeyPath}.pub`);
      expect(listed).toContain(fingerprint);
      const before = balancer.log().length;
      const pool = newPool(targets(withoutKeyFile(agent.socket)));
      expect((await pool.get("balancer").exec("echo via-agent")).stdout).toBe("via-agent\n");
      expect((await pool.get("webserver1").exec("hostname >/dev/null && echo inner")).stdout).toBe("inner\n");
      // sshd says which key it accepted: the one the agent holds.
      await waitUntil(() => /Accepted publickey for root/.test(balancer.log().slice(before)), 5000);
      const accepted = balancer.log().slice(before).split("\n").filter((l) => /Accepted publickey for root/.test(l));
      expect(accepted.length).toBeGreaterThanOrEqual(1);
      expect(accepted[0]).toContain(fingerprint);
    } finally {
      await agent.stop();
    }
  });

  it("agent: true takes the agent from SSH_AUTH_SOCK", async () => {
    const agent = await startAgent("agent-env", [key]);
    const saved = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = agent.socket;
    try {
      const pool = newPool(targets(withoutKeyFile(true)));
      expect((await pool.get("balancer").exec("echo env-agent")).stdout).toBe("env-agent\n");
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
      await agent.stop();
    }
  });

  it("an agent holding only a key the server does not accept → auth, blamed on the grader", async () => {
    const agent = await startAgent("agent-stranger", [strangerKey]);
    try {
      const pool = newPool(targets(withoutKeyFile(agent.socket)));
      const error = await expectSshError(pool.get("balancer").exec("true"));
      expect(error.kind).toBe("auth");
      expect(sshErrorBlame(error)).toBe("grader");
      expect(error.fix.en).toMatch(/agent/);
    } finally {
      await agent.stop();
    }
  });

  it("an agent socket nobody listens on → auth naming the agent, not a hang or a crash", async () => {
    const agent = await startAgent("agent-gone", [key]);
    await agent.stop();
    const pool = newPool(targets(withoutKeyFile(agent.socket)));
    const error = await expectSshError(pool.get("balancer").exec("true"));
    expect(error.kind).toBe("auth");
    // The reason says the agent was not there, not that the server refused a key.
    expect(error.text.en).toMatch(/Could not use the SSH agent/);
    expect(error.text.en).not.toMatch(/rejected/);
    expect(error.fix.es).toMatch(/ssh-agent/);
  });
});
