/**
 * A lab where the grader logs in as an ordinary user: privileged commands go through `sudo -n`.
 * Two throwaway users are created for the test (one with a NOPASSWD rule, one without) and removed.
 */
import { execFileSync } from "node:child_process";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshError, SshPool, sshErrorBlame, type CommandRecord, type SshPoolOptions, type SshTarget } from "../../src/ssh/index.js";
import { makeClientKey, makeTempDir, processAlive, startSshd, waitUntil, type ClientKey, type Sshd } from "./sshd.js";

const ADDRESS = "127.0.0.27";
const WITH_SUDO = "hagrade-sudo-ok";
const WITHOUT_SUDO = "hagrade-sudo-pw";
const sudoers = `/etc/sudoers.d/${WITH_SUDO}`;
const PASSWORD = "Pa55-w0rd-del-alumno";
const available = existsSync("/usr/bin/sudo") && existsSync("/usr/sbin/useradd") && process.getuid?.() === 0;

let dir: string;
let key: ClientKey;
let sshd: Sshd;
const pools: SshPool[] = [];

function removeUsers(): void {
  for (const user of [WITH_SUDO, WITHOUT_SUDO]) {
    try {
      execFileSync("userdel", ["-f", user], { stdio: "ignore" });
    } catch {
      // not there
    }
  }
  rmSync(sudoers, { force: true });
}

function pool(user: string, sudo: SshPoolOptions["sudo"] = "auto", auth: Partial<SshTarget> = { privateKeyPath: key.privateKeyPath }): SshPool {
  const p = new SshPool([{ name: "balancer", host: ADDRESS, port: 2222, user, ...auth, hostKey: sshd.fingerprint }], {
    acceptNewHostKeys: false,
    connectTimeoutMs: 5000,
    execTimeoutMs: 10_000,
    sudo,
  });
  pools.push(p);
  return p;
}

describe.skipIf(!available)("sudo for a non-root login", () => {
  beforeAll(async () => {
    removeUsers();
    dir = makeTempDir("hagrade-ssh-sudo-");
    key = makeClientKey(dir, "id_grader");
    for (const user of [WITH_SUDO, WITHOUT_SUDO]) {
      // '*' = no password but not locked: sshd (UsePAM no) refuses logins of locked accounts.
      execFileSync("useradd", ["-m", "-d", path.join(dir, user), "-s", "/bin/sh", "-p", "*", user]);
    }
    // The user without sudo rights logs in by password in one test: a real crypt(3) hash in shadow.
    const hash = execFileSync("openssl", ["passwd", "-6", PASSWORD], { encoding: "utf8" }).trim();
    execFileSync("usermod", ["-p", hash, WITHOUT_SUDO]);
    writeFileSync(sudoers, `${WITH_SUDO} ALL=(ALL) NOPASSWD: ALL\n`, { mode: 0o440 });
    sshd = await startSshd({ address: ADDRESS, authorizedKeys: [key.publicKey], usersOtherThanRoot: true, passwordAuthentication: true });
  });

  afterAll(async () => {
    await Promise.allSettled(pools.map((p) => p.closeAll()));
    await sshd?.stop();
    removeUsers();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("auto: privileged commands run as root through sudo -n, the others as the user", async () => {
    const host = pool(WITH_SUDO).get("balancer");
    expect((await host.exec("id -u", { sudo: true })).stdout.trim()).toBe("0");
    expect((await host.exec("id -un")).stdout.trim()).toBe(WITH_SUDO);
    expect(host.log.find((r) => r.command === "id -u")?.sudo).toBe(true);
  });

  it("always: every command goes through sudo; never: none does", async () => {
    expect((await pool(WITH_SUDO, "always").get("balancer").exec("id -u")).stdout.trim()).toBe("0");
    expect((await pool(WITH_SUDO, "never").get("balancer").exec("id -un", { sudo: true })).stdout.trim()).toBe(WITH_SUDO);
  });

  it("a user whose sudo wants a password → sudo-password, naming sudo's own words", async () => {
    const host = pool(WITHOUT_SUDO).get("balancer");
    let error: unknown;
    try {
      await host.exec("id -u", { sudo: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SshError);
    const sshError = error as SshError;
    expect(sshError.kind).toBe("sudo-password");
    expect(sshError.text.en).toMatch(/password is required|not in the sudoers/);
    expect(sshError.fix.en).toContain("NOPASSWD");
    expect(sshErrorBlame(sshError)).toBe("grader");
    // Unprivileged commands still run.
    expect((await host.exec("id -un")).stdout.trim()).toBe(WITHOUT_SUDO);
  });

  it("a timed-out command run through sudo is killed (as root) on the machine", async () => {
    const host = pool(WITH_SUDO).get("balancer");
    let error: SshError | undefined;
    try {
      await host.exec("echo $$ $(id -u); exec sleep 306", { sudo: true, timeoutMs: 1000 });
    } catch (e) {
      error = e as SshError;
    }
    expect(error?.kind).toBe("exec-timeout");
    const [pid, uid] = (error?.details.partial?.stdout.trim() ?? "").split(" ").map(Number);
    expect(pid).toBeGreaterThan(1);
    expect(uid).toBe(0);
    expect(await waitUntil(() => !processAlive(pid ?? 0), 8000)).toBe(true);
  });

  it("a timed-out command of an ordinary user (no sudo) is killed too", async () => {
    const host = pool(WITHOUT_SUDO).get("balancer");
    let error: SshError | undefined;
    try {
      await host.exec("echo $$ $(id -u); exec sleep 307", { timeoutMs: 1000 });
    } catch (e) {
      error = e as SshError;
    }
    expect(error?.kind).toBe("exec-timeout");
    const [pid, uid] = (error?.details.partial?.stdout.trim() ?? "").split(" ").map(Number);
    expect(pid).toBeGreaterThan(1);
    expect(uid).not.toBe(0);
    expect(await waitUntil(() => !processAlive(pid ?? 0), 8000)).toBe(true);
  });

  it("logs in with a password, and a wrong one never shows up in errors or logs", async () => {
    const seen: CommandRecord[] = [];
    const good = pool(WITHOUT_SUDO, "auto", { password: PASSWORD });
    const ok = await good.get("balancer").exec("id -un");
    expect(ok.stdout.trim()).toBe(WITHOUT_SUDO);
    const wrongPassword = "not-the-Pa55word";
    const bad = new SshPool([{ name: "balancer", host: ADDRESS, port: 2222, user: WITHOUT_SUDO, password: wrongPassword, hostKey: sshd.fingerprint }], {
      acceptNewHostKeys: false,
      connectTimeoutMs: 5000,
      execTimeoutMs: 10_000,
      sudo: "auto",
      onCommand: (r) => seen.push(r),
    });
    pools.push(bad);
    let error: unknown;
    try {
      await bad.get("balancer").exec("id -un");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SshError);
    expect((error as SshError).kind).toBe("auth");
    const everything = JSON.stringify({ error: (error as SshError).toJSON(), message: (error as Error).message, stack: (error as Error).stack, seen, log: bad.commandLog() });
    expect(seen).toHaveLength(1);
    expect(everything).not.toContain(wrongPassword);
    expect(everything).not.toContain(PASSWORD);
  });
});
