/**
 * The scripted SSH server answers hagrade's real SSH layer as the test says, and logs what it
 * received: the check's command unwrapped, sudo or not, stdin; forwards for jumps; refused logins.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshError, SshPool, sh, type SshPoolOptions, type SshTarget } from "../../src/ssh/index.js";
import { scripted, shWords, startFakeSshd, unwrap, type FakeSshd } from "./fake-sshd.js";
import { remoteCommand } from "../../src/ssh/remote.js";

const options: SshPoolOptions = { acceptNewHostKeys: false, connectTimeoutMs: 5000, execTimeoutMs: 3000, sudo: "auto" };
const pools: SshPool[] = [];
const servers: FakeSshd[] = [];

function target(server: FakeSshd, extra: Partial<SshTarget> = {}): SshTarget {
  return { name: "balancer", host: server.address, port: server.port, user: "grader", password: "secret", hostKey: server.fingerprint, ...extra };
}

function pool(targets: SshTarget[], extra: Partial<SshPoolOptions> = {}): SshPool {
  const p = new SshPool(targets, { ...options, ...extra });
  pools.push(p);
  return p;
}

async function server(...args: Parameters<typeof startFakeSshd>): Promise<FakeSshd> {
  const s = await startFakeSshd(...args);
  servers.push(s);
  return s;
}

let balancer: FakeSshd;

beforeAll(async () => {
  balancer = await server({
    answer: scripted([
      ["u=$(id -u)", { stdout: "1000\n", code: 0 }],
      ["ipvsadm -Ln", (c) => ({ stdout: c.sudo ? "IP Virtual Server version 1.2.1 (size=4096)\n" : "", stderr: c.sudo ? "" : "Permission denied\n", code: c.sudo ? 0 : 2 })],
      ["hang", { hang: true }],
      ["cat >", (c) => ({ stdout: `got ${c.stdin?.length ?? -1} bytes\n` })],
      ["killed", { signal: "KILL" }],
    ]),
  });
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.closeAll()));
  await Promise.all(servers.map((s) => s.stop()));
});

describe("fake sshd", () => {
  it("reads hagrade's wrapper back into the check's command", () => {
    const command = sh`grep -n ${"it's"} /etc/keepalived/keepalived.conf | head -1`;
    const wire = remoteCommand(command, { deadlineSeconds: 12, stdin: false, sudo: true });
    expect(unwrap(wire)).toEqual({ command, sudo: true, deadlineSeconds: 12, stdin: false });
    expect(unwrap("echo hi")).toEqual({ command: "echo hi", sudo: false, stdin: false });
    expect(shWords(`a 'b c' "d\\"e" f\\ g`)).toEqual(["a", "b c", 'd"e', "f g"]);
    expect(shWords("a 'open")).toBeUndefined();
  });

  it("answers per command, with sudo when the command asks for root, and logs each", async () => {
    const p = pool([target(balancer)]);
    const host = p.get("balancer");
    const table = await host.exec("ipvsadm -Ln", { sudo: true });
    expect(table.code).toBe(0);
    expect(table.stdout).toContain("IP Virtual Server");
    const plain = await host.exec("ipvsadm -Ln");
    expect(plain.code).toBe(2);
    expect(plain.stderr).toBe("Permission denied\n");
    const missing = await host.exec("ps -e -o comm=");
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain("ps: not found");
    const killed = await host.exec("killed");
    expect(killed).toMatchObject({ code: null, signal: "SIGKILL" });
    const logged = balancer.checkCommands().map((c) => [c.command, c.sudo]);
    expect(logged).toEqual(expect.arrayContaining([["ipvsadm -Ln", true], ["ipvsadm -Ln", false], ["ps -e -o comm=", false]]));
    expect(balancer.commands().some((c) => c.command.startsWith("u=$(id -u)"))).toBe(true);
  });

  it("passes stdin to the script", async () => {
    const host = pool([target(balancer)]).get("balancer");
    const result = await host.exec("cat > /tmp/x", { stdin: "hello" });
    expect(result.stdout).toBe("got 5 bytes\n");
  });

  it("hangs until the grader's deadline ends the command", async () => {
    const host = pool([target(balancer)]).get("balancer");
    const error = await host.exec("hang", { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshError);
    expect((error as SshError).kind).toBe("exec-timeout");
  });

  it("refuses logins when told to (the grader's credentials refused)", async () => {
    const refusing = await server({ auth: "refuse", answer: scripted([]) });
    const error = await pool([target(refusing)]).get("balancer").exec("true").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SshError);
    expect((error as SshError).kind).toBe("auth");
    expect(refusing.commands()).toEqual([]);
  });

  it("forwards a jump to another server and refuses forwards it was not given", async () => {
    const web = await server({ answer: scripted([["hostname", { stdout: "webserver1\n" }]]) });
    const jump = await server({
      answer: scripted([]),
      forward: (d) => (d.host === "10.0.0.11" && d.port === 22 ? { host: web.address, port: web.port } : undefined),
    });
    const p = pool([
      target(jump, { user: "root" }),
      { name: "webserver1", host: "10.0.0.11", port: 22, user: "root", password: "x", hostKey: web.fingerprint, jump: "balancer" },
      { name: "webserver2", host: "10.0.0.12", port: 22, user: "root", password: "x", hostKey: web.fingerprint, jump: "balancer" },
    ]);
    expect((await p.get("webserver1").exec("hostname")).stdout).toBe("webserver1\n");
    const error = await p.get("webserver2").exec("hostname").catch((e: unknown) => e);
    expect((error as SshError).kind).toBe("jump-failed");
    expect(web.checkCommands().map((c) => c.command)).toEqual(["hostname"]);
  });

  it("drops the connection when the script says so", async () => {
    const dropping = await server({ answer: scripted([["x", { disconnect: true }]]) });
    const error = await pool([target(dropping, { user: "root" })]).get("balancer").exec("x").catch((e: unknown) => e);
    expect((error as SshError).kind).toBe("disconnected");
  });
});
