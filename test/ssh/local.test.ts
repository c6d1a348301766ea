/**
 * hagrade on the balancer itself: the balancer's commands run on this machine (src/ssh/local.ts)
 * behind the interface the SSH pool has. The same behaviour is asked of a real sshd and of this
 * machine side by side: quoting, exit codes, output caps, stdin, deadlines that kill the command
 * and its children, aborts, the command log. Then what only the local executor does: a login's
 * environment (nothing of the grader's), no credentials, web servers reached directly.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { balancerIsLocal, resolveSshTargets } from "../../src/config/targets.js";
import { parseSpecText } from "../../src/config/index.js";
import { SshError, SshPool, sh, shQuote, type SshPoolOptions, type SshTarget } from "../../src/ssh/index.js";
import { makeClientKey, makeTempDir, processAlive, startSshd, waitUntil, type ClientKey, type Sshd } from "./sshd.js";

// Loopback addresses of this file only.
const BALANCER = "127.0.0.41";
const WEBSERVER = "127.0.0.42";

let dir: string;
let key: ClientKey;
let balancer: Sshd;
let webserver: Sshd;
let knownHosts: string;
const pools: SshPool[] = [];
const options: SshPoolOptions = { acceptNewHostKeys: false, connectTimeoutMs: 5000, execTimeoutMs: 10_000, sudo: "auto" };

function balancerTarget(kind: "ssh" | "local"): SshTarget {
  return kind === "local"
    ? { name: "balancer", host: BALANCER, port: 2222, user: "root", local: true }
    : { name: "balancer", host: BALANCER, port: 2222, user: "root", privateKeyPath: key.privateKeyPath, knownHostsPath: knownHosts };
}

function newPool(kind: "ssh" | "local", extra: SshTarget[] = [], poolOptions: Partial<SshPoolOptions> = {}): SshPool {
  const pool = new SshPool([balancerTarget(kind), ...extra], { ...options, ...poolOptions });
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

function pidsOf(pattern: string): number[] {
  try {
    return execFileSync("pgrep", ["-f", pattern], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

beforeAll(async () => {
  dir = makeTempDir("hagrade-ssh-local-");
  key = makeClientKey(dir, "id_grader");
  balancer = await startSshd({ address: BALANCER, authorizedKeys: [key.publicKey] });
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

describe.each([["ssh" as const], ["local" as const]])("the balancer's commands over %s", (kind) => {
  it("return exit codes with stdout and stderr apart; a missing program is exit 127, not an error", async () => {
    const host = newPool(kind).get("balancer");
    expect(await host.exec("echo out; echo err >&2; exit 3")).toMatchObject({ code: 3, signal: null, stdout: "out\n", stderr: "err\n", truncated: false });
    const missing = await host.exec("hagrade-no-such-program --version");
    expect(missing.code).toBe(127);
    expect(missing.stdout).toBe("");
  });

  it("take hostile values as single words", async () => {
    const host = newPool(kind).get("balancer");
    const hostile = `it's "$(echo pwned)"; \`echo x\` $HOME * \\ \n end`;
    expect((await host.exec(sh`printf %s ${hostile}`)).stdout).toBe(hostile);
    expect((await host.exec(`printf '%s|' ${shQuote("")} ${shQuote("a b")}`)).stdout).toBe("|a b|");
  });

  it("feed stdin when given, and an empty one otherwise", async () => {
    const host = newPool(kind).get("balancer");
    expect((await host.exec("cat; echo done", { stdin: "Bienvenido a webserver1\n" })).stdout).toBe("Bienvenido a webserver1\ndone\n");
    expect((await host.exec("wc -c")).stdout.trim()).toBe("0");
  });

  it("cap output and say it was cut", async () => {
    const result = await newPool(kind).get("balancer").exec("head -c 300000 /dev/zero | tr '\\0' a; echo tail >&2", { maxOutputBytes: 1000 });
    expect(result).toMatchObject({ code: 0, stdout: "a".repeat(1000), stderr: "tail\n", truncated: true });
  });

  it("run with sbin on PATH and the C locale", async () => {
    const [pathLine, locale] = (await newPool(kind).get("balancer").exec('echo "$PATH"; echo "$LC_ALL"')).stdout.split("\n");
    expect(pathLine?.split(":")).toContain("/usr/sbin");
    expect(locale).toBe("C");
  });

  it("kill a command that outlives its deadline, and its children, also when it ignores TERM", async () => {
    const host = newPool(kind).get("balancer");
    await host.connect();
    const marker = `sleep 31${kind === "ssh" ? 1 : 2}`;
    // Both run on this machine: the pids go to a file, whatever a loaded machine delays of the output.
    const pidFile = path.join(dir, `pids-${kind}`);
    const error = await expectSshError(host.exec(`trap '' TERM HUP INT; ${marker} & echo $$ $! >${pidFile}; wait`, { timeoutMs: 6000 }));
    expect(error.kind).toBe("exec-timeout");
    const pids = readFileSync(pidFile, "utf8").trim().split(" ").map(Number);
    expect(pids).toHaveLength(2);
    expect(await waitUntil(() => pids.every((p) => !processAlive(p)), 8000)).toBe(true);
    expect(await waitUntil(() => pidsOf(marker).length === 0, 8000)).toBe(true);
    expect((await host.exec("echo alive")).stdout).toBe("alive\n");
  });

  it("stop a command on abort the same way", async () => {
    const host = newPool(kind).get("balancer");
    await host.connect();
    const marker = `sleep 32${kind === "ssh" ? 1 : 2}`;
    const controller = new AbortController();
    const running = host.exec(`exec ${marker}`, { timeoutMs: 20_000, signal: controller.signal });
    expect(await waitUntil(() => pidsOf(`^${marker}$`).length > 0, 15_000)).toBe(true);
    controller.abort();
    expect((await expectSshError(running)).kind).toBe("exec-timeout");
    expect(await waitUntil(() => pidsOf(marker).length === 0, 8000)).toBe(true);
  });

  it("are logged as evidence with the machine's address and whether sudo was used", async () => {
    const pool = newPool(kind, [], { sudo: "always" });
    await pool.get("balancer").exec("id -u");
    const [record] = pool.commandLog();
    expect(record).toMatchObject({ host: "balancer", command: "id -u", code: 0, stdout: "0\n", sudo: false });
    expect(record?.address).toBe(kind === "local" ? `${os.userInfo().username}@this machine (local)` : `root@${BALANCER}:2222`);
  });
});

describe("what only the local executor does", () => {
  it("gives commands a login's environment, nothing of the grader's", async () => {
    process.env.HAGRADE_TEST_GRADER_SECRET = "not-for-the-lab";
    try {
      const r = await newPool("local").get("balancer").exec('echo "[$HAGRADE_TEST_GRADER_SECRET][$SSH_CONNECTION][$HOME]"');
      expect(r.stdout.trim()).toBe(`[][][${os.homedir()}]`);
    } finally {
      delete process.env.HAGRADE_TEST_GRADER_SECRET;
    }
  });

  it("runs as the user running hagrade, with no host key and no credentials", async () => {
    const host = newPool("local").get("balancer");
    expect(await host.connect()).toEqual({ fingerprint: "", keyType: "", hostKey: "local" });
    expect((await host.exec("id -un")).stdout.trim()).toBe(os.userInfo().username);
  });

  it("reaches a web server that jumps through the balancer directly from this machine", async () => {
    const pool = newPool("local", [
      { name: "webserver1", host: WEBSERVER, port: 2222, user: "root", privateKeyPath: key.privateKeyPath, knownHostsPath: knownHosts, jump: "balancer" },
    ]);
    // sshd of the web server sees the connection come from this machine, not from a forwarding.
    const seen = await pool.get("webserver1").exec("echo $SSH_CONNECTION");
    expect(seen.stdout.trim().split(" ")[2]).toBe(WEBSERVER);
    expect(webserver.log()).not.toMatch(/direct-tcpip/);
  });

  it("closing the pool ends commands still running", async () => {
    const pool = newPool("local");
    const running = pool.get("balancer").exec("exec sleep 333", { timeoutMs: 30_000 });
    expect(await waitUntil(() => pidsOf("^sleep 333$").length > 0, 15_000)).toBe(true);
    await pool.closeAll();
    await expectSshError(running);
    expect(await waitUntil(() => pidsOf("sleep 333").length === 0, 8000)).toBe(true);
  });
});

// Two throwaway users run the local executor (one with a NOPASSWD sudo rule, one without).
const WITH_SUDO = "hagrade-local-ok";
const WITHOUT_SUDO = "hagrade-local-pw";
const sudoers = `/etc/sudoers.d/${WITH_SUDO}`;
const canSwitchUser = process.getuid?.() === 0 && existsSync("/usr/bin/sudo") && existsSync("/usr/sbin/runuser") && existsSync("/usr/sbin/useradd");

function removeUsers(): void {
  for (const user of [WITH_SUDO, WITHOUT_SUDO]) {
    try {
      execFileSync("userdel", [user], { stdio: "ignore" });
    } catch {
      // not there
    }
  }
  rmSync(sudoers, { force: true });
}

describe.skipIf(!canSwitchUser)("the sudo rules on this machine are the SSH layer's", () => {
  const child = path.join(import.meta.dirname, "local-child.ts");
  const tsx = path.join(import.meta.dirname, "../../node_modules/tsx/dist/loader.mjs");
  const runAs = (user: string, mode: string) =>
    JSON.parse(execFileSync("runuser", ["-u", user, "--", process.execPath, "--import", tsx, child, mode], { encoding: "utf8", cwd: "/", timeout: 60_000 })) as {
      plain: string; root: string; login: string; sudoUsed: boolean[];
    };
  const uid = (user: string) => execFileSync("id", ["-u", user], { encoding: "utf8" }).trim();

  beforeAll(() => {
    removeUsers();
    for (const user of [WITH_SUDO, WITHOUT_SUDO]) execFileSync("useradd", ["-M", "-d", "/nonexistent", "-s", "/bin/sh", user]);
    writeFileSync(sudoers, `${WITH_SUDO} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
  });
  afterAll(removeUsers);

  it("auto: sudo -n only for what needs root; always: for every command but the login's own (asLogin)", () => {
    const me = uid(WITH_SUDO);
    expect(runAs(WITH_SUDO, "auto")).toEqual({ plain: me, root: "0", login: me, sudoUsed: [false, true, false] });
    expect(runAs(WITH_SUDO, "always")).toEqual({ plain: "0", root: "0", login: me, sudoUsed: [true, true, false] });
    expect(runAs(WITH_SUDO, "never")).toEqual({ plain: me, root: me, login: me, sudoUsed: [false, false, false] });
  });

  it("a user whose sudo wants a password gets the sudo-password error, as over SSH", () => {
    const me = uid(WITHOUT_SUDO);
    const seen = runAs(WITHOUT_SUDO, "auto");
    expect(seen).toMatchObject({ plain: me, root: "error:sudo-password", login: me });
  });
});

describe("deciding that hagrade runs on the balancer", () => {
  const spec = async (balancer: Record<string, unknown>) => {
    const parsed = await parseSpecText(
      JSON.stringify({ lab: "t", vip: { address: "192.168.0.10" }, balancer: { internalAddress: "192.168.100.1", ...balancer }, backends: [
        { name: "webserver1", address: "192.168.100.11" },
        { name: "webserver2", address: "192.168.100.12" },
      ], ssh: { privateKey: key.privateKeyPath } }),
      { sourceName: "t.json", baseDir: "/" },
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    return parsed.spec;
  };

  it("balancer.local says so; without it, an address of the balancer that is this machine's does, unless balancer.ssh is given", async () => {
    expect(balancerIsLocal(await spec({ local: true }), [])).toBe(true);
    expect(balancerIsLocal(await spec({ local: false }), ["192.168.100.1"])).toBe(false);
    expect(balancerIsLocal(await spec({}), ["127.0.0.1", "192.168.100.1"])).toBe(true);
    expect(balancerIsLocal(await spec({}), ["127.0.0.1", "192.168.0.10"])).toBe(true);
    expect(balancerIsLocal(await spec({}), ["127.0.0.1", "192.168.100.50"])).toBe(false);
    // SSH to itself stays SSH.
    expect(balancerIsLocal(await spec({ ssh: { host: "127.0.0.1" } }), ["127.0.0.1", "192.168.100.1"])).toBe(false);
  });

  it("with the balancer local, the web servers are targets reached directly", async () => {
    const targets = resolveSshTargets(await spec({}), { localAddresses: ["192.168.100.1"] });
    expect(targets.map((t) => [t.name, t.local ?? false, t.jump ?? null])).toEqual([
      ["balancer", true, null],
      ["webserver1", false, null],
      ["webserver2", false, null],
    ]);
    expect(resolveSshTargets(await spec({}), { localAddresses: ["192.168.100.50"] })).toEqual([]);
  });
});
