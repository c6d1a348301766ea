/**
 * The student's OpenSSH client configuration, read as ssh(1) reads it: the first value obtained
 * wins, Host patterns with * ? and !, Include, tokens and ~; Match is skipped without running
 * anything. Then the spec's targets built on top of it: `balancer.ssh.host: balancer` connects
 * where `ssh balancer` connects, with its user, port, key, jump and known_hosts.
 */
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hostPatternsMatch, parseJumpHop, parseSshConfigText, readSshConfig, resolveSshConfigHost, type SshConfigContext } from "../../src/config/ssh-config.js";
import { labSpecSchema, resolveSshTargets, type LabSpecInput } from "../../src/config/schema.js";
import { WINDOWS_AGENT_PIPE } from "../../src/config/targets.js";

const home = mkdtempSync(path.join(tmpdir(), "hagrade-sshcfg-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const posix: SshConfigContext = { homeDir: home, pathApi: path.posix, env: { LAB: "redes" }, localUser: "ana" };

const CONFIG = `
# the student's ~/.ssh/config
Host balancer lb
    HostName 192.168.56.10
    Port 2222
    User alumno
    IdentityFile ~/.ssh/lab_%r
    IdentityFile ~/.ssh/id_ed25519
    StrictHostKeyChecking accept-new
    UserKnownHostsFile ~/.ssh/known_hosts_%h ~/.ssh/other

Host lab-? !lab-x
    HostName 10.0.0.%h

Match host balancer exec "touch ${home}/match-ran"
    User evil

Host webserver*
    ProxyJump balancer
    User root

Host *
    User nobody
    Port 22
    IdentitiesOnly yes
`;

describe("ssh_config resolution", () => {
  const document = parseSshConfigText(CONFIG, { file: "config", context: posix });

  it("takes the first value obtained for each option, the specific Host before Host *", () => {
    const host = resolveSshConfigHost(document, "balancer", posix);
    expect(host).toMatchObject({ hostName: "192.168.56.10", port: 2222, user: "alumno", strictHostKeyChecking: "accept-new", identitiesOnly: true });
    // Every IdentityFile is kept, in order; tokens use the values resolved so far.
    expect(host.identityFiles).toEqual([`${home}/.ssh/lab_alumno`, `${home}/.ssh/id_ed25519`]);
    expect(host.userKnownHostsFiles).toEqual([`${home}/.ssh/known_hosts_192.168.56.10`, `${home}/.ssh/other`]);
    expect(host.sources.HostName).toBe("config:4");
    // A second alias on the same Host line is the same machine.
    expect(resolveSshConfigHost(document, "LB", posix).hostName).toBe("192.168.56.10");
  });

  it("falls through to Host * and keeps the name itself when nothing sets HostName", () => {
    expect(resolveSshConfigHost(document, "192.168.0.10", posix)).toMatchObject({ hostName: "192.168.0.10", user: "nobody", port: 22, proxyJump: [] });
    expect(resolveSshConfigHost(document, "webserver1", posix)).toMatchObject({ user: "root", proxyJump: ["balancer"] });
  });

  it("matches ? as exactly one character and lets a negated pattern rule a Host line out", () => {
    expect(resolveSshConfigHost(document, "lab-1", posix).hostName).toBe("10.0.0.lab-1");
    expect(resolveSshConfigHost(document, "lab-12", posix).hostName).toBe("lab-12");
    expect(resolveSshConfigHost(document, "lab-x", posix).hostName).toBe("lab-x");
    expect(hostPatternsMatch(["*", "!10.0.*"], "10.0.0.1")).toBe(false);
    expect(hostPatternsMatch(["192.168.?.1"], "192.168.0.1")).toBe(true);
    expect(hostPatternsMatch(["192.168.?.1"], "192.168.10.1")).toBe(false);
  });

  it("skips Match blocks without running their exec, and says so", () => {
    expect(resolveSshConfigHost(document, "balancer", posix).user).toBe("alumno");
    expect(existsSync(path.join(home, "match-ran"))).toBe(false);
    expect(document.notes.join("\n")).toMatch(/Match host balancer .* is not evaluated/);
  });

  it("reads Include files relative to ~/.ssh, globs included, and expands ${VAR}", () => {
    mkdirSync(path.join(home, ".ssh", "config.d"), { recursive: true });
    writeFileSync(path.join(home, ".ssh", "config.d", "10-lab"), "Host vm\n  HostName 127.0.0.1\n  Port 2222\n  IdentityFile ~/${LAB}/key\n");
    writeFileSync(path.join(home, ".ssh", "config.d", "20-other"), "Host vm\n  Port 9999\n");
    const included = parseSshConfigText("Include config.d/*\nHost *\n  User root\n", { context: posix });
    expect(resolveSshConfigHost(included, "vm", posix)).toMatchObject({ hostName: "127.0.0.1", port: 2222, user: "root", identityFiles: [`${home}/redes/key`] });
  });

  it("never throws on text that is not a configuration, and bounds Include loops", () => {
    writeFileSync(path.join(home, ".ssh", "loop"), "Include loop\nHost x\n  Port 1\n");
    const looped = parseSshConfigText("Include loop\n", { context: posix });
    expect(resolveSshConfigHost(looped, "x", posix).port).toBe(1);
    expect(looped.notes.join("\n")).toMatch(/not read|deeper/);
    for (const garbage of ["\u0000\u0001", "Host\n", "=\n", '"unterminated', "Port notaport\nHost *\n  Port 99999\n"]) {
      const doc = parseSshConfigText(garbage, { context: posix });
      expect(() => resolveSshConfigHost(doc, "any", posix)).not.toThrow();
      expect(resolveSshConfigHost(doc, "any", posix).port).toBeUndefined();
    }
  });

  it("reads a missing ~/.ssh/config as empty, and a missing named file as an error", () => {
    expect(readSshConfig(path.join(home, "nope"), { context: posix })).toMatchObject({ blocks: [] });
    expect(readSshConfig(path.join(home, "nope"), { context: posix, required: true })).toMatchObject({ error: expect.stringMatching(/no such file/) });
  });

  it("parses ProxyJump hops as ssh does", () => {
    expect(parseJumpHop("alumno@gw.example.org:2200")).toEqual({ user: "alumno", host: "gw.example.org", port: 2200 });
    expect(parseJumpHop("ssh://root@[fe80::1]:22")).toEqual({ user: "root", host: "fe80::1", port: 22 });
    expect(parseJumpHop("balancer")).toEqual({ host: "balancer" });
    expect(parseJumpHop("a b")).toBeUndefined();
  });

  it("expands ~ to %USERPROFILE% with Windows paths", () => {
    const windows: SshConfigContext = { homeDir: "C:\\Users\\ana", pathApi: path.win32, env: {}, localUser: "ana" };
    const doc = parseSshConfigText("Host vm\n  IdentityFile ~/.ssh/id_rsa\n  UserKnownHostsFile ~\\.ssh\\kh\n", { context: windows });
    const host = resolveSshConfigHost(doc, "vm", windows);
    expect(host.identityFiles).toEqual(["C:\\Users\\ana\\.ssh\\id_rsa"]);
    expect(host.userKnownHostsFiles).toEqual(["C:\\Users\\ana\\.ssh\\kh"]);
  });
});

describe("the spec's SSH targets on top of ssh_config", () => {
  const spec = (extra: Partial<LabSpecInput> = {}) => labSpecSchema.parse({
    lab: "alumno-01",
    vip: { address: "192.168.0.10" },
    balancer: { internalAddress: "192.168.100.1", ssh: { host: "balancer" } },
    backends: [{ name: "webserver1", address: "192.168.100.11" }, { name: "webserver2", address: "192.168.100.12" }],
    ...extra,
  });
  const document = parseSshConfigText(CONFIG, { file: "config", context: posix });
  const environment = { env: {}, platform: "linux" as const, homeDir: home, pathApi: path.posix, sshConfig: document, fileExists: (f: string) => f.endsWith("id_ed25519") };

  it("connects `balancer` where `ssh balancer` does: HostName, Port, User, the first key that exists, known_hosts, accept-new", () => {
    const [balancer, ws1] = resolveSshTargets(spec(), environment);
    expect(balancer).toMatchObject({
      name: "balancer", host: "192.168.56.10", port: 2222, user: "alumno", privateKeyPath: `${home}/.ssh/id_ed25519`,
      knownHostsPath: `${home}/.ssh/known_hosts_192.168.56.10`, acceptNewHostKey: true, sudo: true,
    });
    expect(balancer?.agent).toBeUndefined();
    expect(balancer?.via?.alias).toBe("balancer");
    // A web server named by its address still jumps through the balancer; Host * gives its user.
    expect(ws1).toMatchObject({ name: "webserver1", host: "192.168.100.11", jump: "balancer", user: "nobody" });
  });

  it("lets the spec win over ssh_config, as ssh's command line does", () => {
    const [balancer] = resolveSshTargets(spec({ ssh: { user: "root", port: 22, privateKey: "/keys/lab" } }), environment);
    expect(balancer).toMatchObject({ host: "192.168.56.10", user: "root", port: 22, privateKeyPath: "/keys/lab" });
  });

  it("follows a web server's ProxyJump when the spec names it by alias, sharing the balancer's connection", () => {
    const targets = resolveSshTargets(spec({
      backends: [{ name: "webserver1", address: "192.168.100.11", ssh: { host: "webserver1" } }, { name: "webserver2", address: "192.168.100.12" }],
    }), environment);
    expect(targets.map((t) => [t.name, t.jump])).toEqual([["balancer", undefined], ["webserver1", "balancer"], ["webserver2", "balancer"]]);
  });

  it("makes the balancer's own ProxyJump hops targets of their own", () => {
    const jumpy = parseSshConfigText("Host balancer\n  HostName 10.0.0.5\n  ProxyJump alumno@gw:2200\nHost gw\n  HostName 198.51.100.7\n", { context: posix });
    const targets = resolveSshTargets(spec(), { ...environment, sshConfig: jumpy });
    expect(targets.map((t) => [t.name, t.host, t.port, t.user, t.jump])).toEqual([
      ["balancer", "10.0.0.5", 22, "root", "jump:gw"],
      ["jump:gw", "198.51.100.7", 2200, "alumno", undefined],
      ["webserver1", "192.168.100.11", 22, "root", "balancer"],
      ["webserver2", "192.168.100.12", 22, "root", "balancer"],
    ]);
  });

  it("finds the usual keys and the agent when nothing names one, on Linux and on Windows", () => {
    const plain = spec({ balancer: { internalAddress: "192.168.100.1", ssh: { host: "192.168.0.10" } } });
    const linux = resolveSshTargets(plain, { env: { SSH_AUTH_SOCK: "/run/agent" }, platform: "linux", homeDir: "/home/ana", sshConfig: false, fileExists: (f) => f === "/home/ana/.ssh/id_rsa" });
    expect(linux[0]).toMatchObject({ privateKeyPath: "/home/ana/.ssh/id_rsa", agent: "/run/agent", found: ["/home/ana/.ssh/id_rsa", "agent"] });
    const windows = resolveSshTargets(plain, { env: {}, platform: "win32", homeDir: "C:\\Users\\ana", sshConfig: false, fileExists: (f) => f === "C:\\Users\\ana\\.ssh\\id_ed25519" });
    expect(windows[0]).toMatchObject({ privateKeyPath: "C:\\Users\\ana\\.ssh\\id_ed25519", agent: WINDOWS_AGENT_PIPE, knownHostsPath: "C:\\Users\\ana\\.ssh\\known_hosts" });
    // A key named in the spec is the only key: no agent is asked unless the spec says so.
    const named = resolveSshTargets(spec({ balancer: { internalAddress: "192.168.100.1", ssh: { host: "192.168.0.10" } }, ssh: { privateKey: "/k" } }), { env: { SSH_AUTH_SOCK: "/run/agent" }, platform: "linux", homeDir: "/home/ana", sshConfig: false, fileExists: () => true });
    expect(named[0]?.agent).toBeUndefined();
    expect(named[0]?.found).toBeUndefined();
  });

  it("reads the file the spec names with ssh.config", () => {
    const file = path.join(home, "lab_ssh_config");
    writeFileSync(file, "Host balancer\n  HostName 127.0.0.1\n  Port 2222\n");
    const targets = resolveSshTargets(spec({ ssh: { config: file } }), { env: {}, platform: "linux", homeDir: home, fileExists: () => false });
    expect(targets[0]).toMatchObject({ host: "127.0.0.1", port: 2222 });
    const none = resolveSshTargets(spec({ ssh: { config: false } }), { env: {}, platform: "linux", homeDir: home, fileExists: () => false });
    expect(none[0]).toMatchObject({ host: "balancer", port: 22 });
  });
});
