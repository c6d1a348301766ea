import path from "node:path";
import { describe, expect, it } from "vitest";
import { isWindowsPipe, resolveSpecPath, resolveSpecPaths, type PathContext } from "../../src/config/paths.js";
import { labSpecSchema } from "../../src/config/schema.js";

const posix: PathContext = { baseDir: "/labs/alumno-01", homeDir: "/home/ana", pathApi: path.posix };
const windows: PathContext = { baseDir: "C:\\labs\\alumno-01", homeDir: "C:\\Users\\ana", pathApi: path.win32 };

describe("spec paths on POSIX", () => {
  it("resolves relative paths against the spec's folder and ~ against the home folder", () => {
    expect(resolveSpecPath("keys/id", posix)).toBe("/labs/alumno-01/keys/id");
    expect(resolveSpecPath("./keys/../id", posix)).toBe("/labs/alumno-01/id");
    expect(resolveSpecPath("../shared/id", posix)).toBe("/labs/shared/id");
    expect(resolveSpecPath("~/.ssh/id_ed25519", posix)).toBe("/home/ana/.ssh/id_ed25519");
    expect(resolveSpecPath("~", posix)).toBe("/home/ana");
    expect(resolveSpecPath("/etc/hagrade/id", posix)).toBe("/etc/hagrade/id");
  });

  it("does not treat ~user or a backslash after ~ as the home folder", () => {
    expect(resolveSpecPath("~ana/id", posix)).toBe("/labs/alumno-01/~ana/id");
    expect(resolveSpecPath("~\\id", posix)).toBe("/labs/alumno-01/~\\id");
  });
});

describe("spec paths on Windows (path.win32)", () => {
  it("resolves relative paths with either separator against the spec's folder", () => {
    expect(resolveSpecPath("keys\\id", windows)).toBe("C:\\labs\\alumno-01\\keys\\id");
    expect(resolveSpecPath("./keys/id", windows)).toBe("C:\\labs\\alumno-01\\keys\\id");
    expect(resolveSpecPath("..\\shared\\id", windows)).toBe("C:\\labs\\shared\\id");
  });

  it("expands ~\\ and ~/ to the user's profile", () => {
    expect(resolveSpecPath("~\\.ssh\\id_ed25519", windows)).toBe("C:\\Users\\ana\\.ssh\\id_ed25519");
    expect(resolveSpecPath("~/.ssh/known_hosts", windows)).toBe("C:\\Users\\ana\\.ssh\\known_hosts");
  });

  it("keeps drive, UNC and pipe paths; a rooted path takes the spec's drive", () => {
    expect(resolveSpecPath("D:\\keys\\id", windows)).toBe("D:\\keys\\id");
    expect(resolveSpecPath("d:/keys/id", windows)).toBe("d:\\keys\\id");
    expect(resolveSpecPath("\\\\server\\share\\id", windows)).toBe("\\\\server\\share\\id");
    expect(resolveSpecPath("\\\\.\\pipe\\openssh-ssh-agent", windows)).toBe("\\\\.\\pipe\\openssh-ssh-agent");
    expect(resolveSpecPath("\\keys\\id", windows)).toBe("C:\\keys\\id");
  });

  it("recognises agent pipes with either slash", () => {
    expect(isWindowsPipe("\\\\.\\pipe\\openssh-ssh-agent")).toBe(true);
    expect(isWindowsPipe("//./pipe/openssh-ssh-agent")).toBe(true);
    expect(isWindowsPipe("C:\\pipe\\x")).toBe(false);
  });

  it("makes every local path of a spec absolute without touching the original", () => {
    const spec = labSpecSchema.parse({
      lab: "alumno-01",
      vip: { address: "192.168.0.10" },
      balancer: { internalAddress: "192.168.100.1", ssh: { privateKey: "keys\\balancer", password: { file: "secret.txt" } } },
      backends: [
        { name: "webserver1", address: "192.168.100.11", ssh: { knownHosts: "~\\kh", agent: "\\\\.\\pipe\\openssh-ssh-agent" } },
        { name: "webserver2", address: "192.168.100.12" },
      ],
      ssh: { privateKey: "~/.ssh/id_ed25519", passphrase: { env: "PASS" }, agent: "agent.sock" },
    });
    const resolved = resolveSpecPaths(spec, windows);
    expect(resolved.ssh.privateKey).toBe("C:\\Users\\ana\\.ssh\\id_ed25519");
    expect(resolved.ssh.passphrase).toEqual({ env: "PASS" });
    expect(resolved.ssh.agent).toBe("C:\\labs\\alumno-01\\agent.sock");
    expect(resolved.balancer.ssh?.privateKey).toBe("C:\\labs\\alumno-01\\keys\\balancer");
    expect(resolved.balancer.ssh?.password).toEqual({ file: "C:\\labs\\alumno-01\\secret.txt" });
    expect(resolved.backends[0]?.ssh?.knownHosts).toBe("C:\\Users\\ana\\kh");
    expect(resolved.backends[0]?.ssh?.agent).toBe("\\\\.\\pipe\\openssh-ssh-agent");
    expect(resolved.backends[1]?.ssh).toBeUndefined();
    expect(spec.ssh.privateKey).toBe("~/.ssh/id_ed25519");
    expect(spec.balancer.ssh?.privateKey).toBe("keys\\balancer");
  });
});
