/**
 * A teacher or student on Windows: where hagrade looks for known_hosts (%USERPROFILE%\.ssh), spec
 * paths written with backslashes or %USERPROFILE%, and files saved by Notepad (CRLF, UTF-8 BOM).
 * Windows path rules come from path.win32, so they are checked on any machine.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveSpecPath, resolveSpecPaths, type PathContext } from "../../src/config/paths.js";
import { DEFAULT_KNOWN_HOSTS, labSpecSchema, resolveSshTargets } from "../../src/config/schema.js";
import { checkHostKey, defaultKnownHostsPath, parseKnownHosts } from "../../src/ssh/hostkeys.js";

const windows: PathContext = { baseDir: "C:\\Users\\ana\\Documents\\redes", homeDir: "C:\\Users\\ana", pathApi: path.win32 };
const posix: PathContext = { baseDir: "/home/ana/redes", homeDir: "/home/ana", pathApi: path.posix };

describe("where hagrade looks on Windows", () => {
  it("finds known_hosts in %USERPROFILE%\\.ssh, the same file the spec's default names", () => {
    expect(defaultKnownHostsPath(path.win32, "C:\\Users\\ana")).toBe("C:\\Users\\ana\\.ssh\\known_hosts");
    expect(resolveSpecPath(DEFAULT_KNOWN_HOSTS, windows)).toBe(defaultKnownHostsPath(path.win32, windows.homeDir));
    expect(resolveSpecPath(DEFAULT_KNOWN_HOSTS, posix)).toBe(defaultKnownHostsPath(path.posix, posix.homeDir));
  });

  it("reads %USERPROFILE% in a spec path as the profile folder (Windows only)", () => {
    expect(resolveSpecPath("%USERPROFILE%\\.ssh\\id_ed25519", windows)).toBe("C:\\Users\\ana\\.ssh\\id_ed25519");
    expect(resolveSpecPath("%userprofile%/.ssh/known_hosts", windows)).toBe("C:\\Users\\ana\\.ssh\\known_hosts");
    expect(resolveSpecPath("%USERPROFILE%", windows)).toBe("C:\\Users\\ana");
    // Only the whole variable: a folder that merely starts with the name is relative.
    expect(resolveSpecPath("%USERPROFILE%x\\id", windows)).toBe("C:\\Users\\ana\\Documents\\redes\\%USERPROFILE%x\\id");
    expect(resolveSpecPath("%USERPROFILE%/id", posix)).toBe("/home/ana/redes/%USERPROFILE%/id");
  });

  it("resolves a whole spec's backslash paths against the spec's folder", () => {
    const spec = labSpecSchema.parse({
      lab: "alumno-01",
      vip: { address: "192.168.0.10" },
      balancer: { internalAddress: "192.168.100.1", ssh: { host: "192.168.0.2" } },
      backends: [
        { name: "webserver1", address: "192.168.100.11" },
        { name: "webserver2", address: "192.168.100.12", ssh: { privateKey: "..\\claves\\ws2", knownHosts: "%USERPROFILE%\\.ssh\\known_hosts_lab" } },
      ],
      ssh: { privateKey: "claves\\id_ed25519", password: { file: ".\\secreto.txt" } },
    });
    const resolved = resolveSpecPaths(spec, windows);
    expect(resolved.ssh.privateKey).toBe("C:\\Users\\ana\\Documents\\redes\\claves\\id_ed25519");
    expect(resolved.ssh.password).toEqual({ file: "C:\\Users\\ana\\Documents\\redes\\secreto.txt" });
    // Not written in the spec: the default comes with the machine's targets, in the profile folder.
    expect(resolved.ssh.knownHosts).toBeUndefined();
    const [balancer] = resolveSshTargets(resolved, { env: {}, platform: "win32", homeDir: windows.homeDir, sshConfig: false, fileExists: () => false });
    expect(balancer?.knownHostsPath).toBe("C:\\Users\\ana\\.ssh\\known_hosts");
    expect(resolved.backends[1]?.ssh?.privateKey).toBe("C:\\Users\\ana\\Documents\\claves\\ws2");
    expect(resolved.backends[1]?.ssh?.knownHosts).toBe("C:\\Users\\ana\\.ssh\\known_hosts_lab");
  });
});

describe("a known_hosts saved on Windows (CRLF, BOM)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "hagrade-win-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "host_key")]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "other_key")]);
  const blobOf = (name: string) => Buffer.from(readFileSync(path.join(dir, `${name}.pub`), "utf8").split(" ")[1]!, "base64");
  const line = (host: string, name: string) => `${host} ${readFileSync(path.join(dir, `${name}.pub`), "utf8").split(" ").slice(0, 2).join(" ")}`;

  it("trusts the key on its line and catches a changed one", async () => {
    const file = path.join(dir, "known_hosts");
    writeFileSync(file, `\uFEFF${line("192.168.0.2", "host_key")}\r\n# lab\r\n${line("192.168.100.11", "other_key")}\r\n`);
    expect(parseKnownHosts(readFileSync(file, "utf8")).map((e) => e.hostField)).toEqual(["192.168.0.2", "192.168.100.11"]);
    const policy = { host: "192.168.0.2", port: 22, knownHostsPath: file, acceptNew: false };
    expect(await checkHostKey(blobOf("host_key"), policy)).toMatchObject({ verdict: "trusted", source: "known_hosts" });
    expect(await checkHostKey(blobOf("other_key"), policy)).toMatchObject({ verdict: "changed", knownHostsLine: 1 });
  });

  it("adds a new host to a CRLF file once, and trusts it afterwards", async () => {
    const file = path.join(dir, "known_hosts_new");
    writeFileSync(file, `${line("192.168.0.2", "host_key")}\r\n`);
    const policy = { host: "192.168.100.12", port: 2222, knownHostsPath: file, acceptNew: true };
    expect(await checkHostKey(blobOf("other_key"), policy)).toMatchObject({ verdict: "added" });
    expect(await checkHostKey(blobOf("other_key"), policy)).toMatchObject({ verdict: "trusted" });
    expect(parseKnownHosts(readFileSync(file, "utf8")).map((e) => e.hostField)).toEqual(["192.168.0.2", "[192.168.100.12]:2222"]);
  });
});
