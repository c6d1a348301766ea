import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshError, SshPool, checkHostKey, hostFieldMatches, knownHostsName, knownHostsNameVia, parseKnownHosts, sshErrorOutcome, type SshPoolOptions, type SshTarget } from "../../src/ssh/index.js";
import { fingerprintOfLine, keygenFingerprint, makeClientKey, makeTempDir, startSshd, type ClientKey, type Sshd } from "./sshd.js";

const ADDRESS = "127.0.0.24";
const NAME = `[${ADDRESS}]:2222`;

let dir: string;
let key: ClientKey;
let sshd: Sshd;
let counter = 0;
const pools: SshPool[] = [];

function knownHostsFile(content?: string): string {
  const file = path.join(dir, `known_hosts_${++counter}`);
  if (content !== undefined) writeFileSync(file, content);
  return file;
}

function pool(target: Partial<SshTarget>, options: Partial<SshPoolOptions> = {}): SshPool {
  const p = new SshPool(
    [{ name: "balancer", host: ADDRESS, port: 2222, user: "root", privateKeyPath: key.privateKeyPath, ...target }],
    { acceptNewHostKeys: false, connectTimeoutMs: 5000, execTimeoutMs: 10_000, sudo: "auto", ...options },
  );
  pools.push(p);
  return p;
}

async function connectError(p: SshPool): Promise<SshError> {
  try {
    await p.get("balancer").connect();
  } catch (error) {
    expect(error).toBeInstanceOf(SshError);
    return error as SshError;
  }
  throw new Error("expected the connection to be refused");
}

/** A second, unrelated key of the same type: what a reinstalled (or impostor) server would show. */
function otherHostKeyLine(type: string): string {
  const other = makeClientKey(dir, `other_${type}_${++counter}`, { type });
  return other.publicKey.split(/\s+/).slice(0, 2).join(" ");
}

beforeAll(async () => {
  dir = makeTempDir("hagrade-ssh-hostkeys-");
  key = makeClientKey(dir, "id_grader");
  // ed25519 first: the key ssh2 asks for when it knows nothing about the host.
  sshd = await startSshd({ address: ADDRESS, authorizedKeys: [key.publicKey], hostKeyTypes: ["ed25519", "ecdsa"] });
});

afterAll(async () => {
  await Promise.allSettled(pools.map((p) => p.closeAll()));
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("host keys against known_hosts", () => {
  it("an unknown key is refused with the host and its SHA256 fingerprint; nothing is written", async () => {
    const file = knownHostsFile();
    const error = await connectError(pool({ knownHostsPath: file }));
    expect(error.kind).toBe("host-key-unknown");
    const expected = keygenFingerprint(sshd.hostKeys.ed25519?.file ?? "");
    expect(fingerprintOfLine(sshd.hostKeys.ed25519?.line ?? "")).toBe(expected);
    expect(error.fingerprint).toBe(expected);
    expect(error.text.en).toContain(expected);
    expect(error.text.es).toContain("balancer");
    expect(error.host.address).toBe(`root@${ADDRESS}:2222`);
    expect(sshErrorOutcome(error)).toBe("error");
    expect(existsSync(file)).toBe(false);
  });

  it("with acceptNewHostKeys the key is filed (file created, mode 600) and trusted from then on", async () => {
    const file = path.join(dir, "fresh", ".ssh", "known_hosts");
    const info = await pool({ knownHostsPath: file }, { acceptNewHostKeys: true }).get("balancer").connect();
    expect(info.hostKey).toBe("added");
    expect(info.fingerprint).toBe(sshd.fingerprint);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toBe(`${NAME} ${sshd.hostKeys.ed25519?.line}\n`);
    // OpenSSH's own lookup finds it under the [host]:port name.
    expect(execFileSync("ssh-keygen", ["-F", NAME, "-f", file], { encoding: "utf8" })).toContain(sshd.hostKeys.ed25519?.line ?? "-");
    const again = await pool({ knownHostsPath: file }).get("balancer").connect();
    expect(again.hostKey).toBe("known_hosts");
  });

  it("reads hashed entries (ssh-keygen -H)", async () => {
    const file = knownHostsFile(`# comment\n${NAME} ${sshd.hostKeys.ed25519?.line}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^\|1\|/m);
    expect(text).not.toContain(ADDRESS);
    const info = await pool({ knownHostsPath: file }).get("balancer").connect();
    expect(info.hostKey).toBe("known_hosts");
  });

  it("asks for a key type already on file (ECDSA known, server prefers Ed25519)", async () => {
    const file = knownHostsFile(`${NAME} ${sshd.hostKeys.ecdsa?.line}\n`);
    const info = await pool({ knownHostsPath: file }).get("balancer").connect();
    expect(info.keyType).toBe("ecdsa-sha2-nistp256");
    expect(info.fingerprint).toBe(keygenFingerprint(sshd.hostKeys.ecdsa?.file ?? ""));
  });

  it("a CHANGED key is an error even with acceptNewHostKeys, and known_hosts is left alone", async () => {
    const content = `other.example ${otherHostKeyLine("ed25519")}\n${NAME} ${otherHostKeyLine("ed25519")}\n`;
    const file = knownHostsFile(content);
    const error = await connectError(pool({ knownHostsPath: file }, { acceptNewHostKeys: true }));
    expect(error.kind).toBe("host-key-changed");
    expect(error.fingerprint).toBe(sshd.fingerprint);
    expect(error.details.knownHostsLine).toBe(2);
    expect(error.text.en).toContain(`${file}:2`);
    expect(readFileSync(file, "utf8")).toBe(content);
    // Permanent for the run: no second handshake.
    const p = pool({ knownHostsPath: file }, { acceptNewHostKeys: true });
    const first = await connectError(p);
    expect(await connectError(p)).toBe(first);
  });

  it("a key marked @revoked is refused", async () => {
    const file = knownHostsFile(`@revoked * ${sshd.hostKeys.ed25519?.line}\n${NAME} ${sshd.hostKeys.ed25519?.line}\n`);
    const error = await connectError(pool({ knownHostsPath: file }));
    expect(error.kind).toBe("host-key-changed");
    expect(error.text.en).toContain("revoked");
  });
});

describe("host keys in a class", () => {
  const blob = (line: string) => Buffer.from(line.split(/\s+/)[1] ?? "", "base64");

  it("web servers at the same address behind different balancers are filed apart, and each is trusted with its own key", async () => {
    const file = knownHostsFile("");
    const ws1OfLabA = otherHostKeyLine("ed25519");
    const ws1OfLabB = otherHostKeyLine("ed25519");
    const viaA = { host: "10.220.1.1", port: 22 };
    const viaB = { host: "10.220.2.1", port: 22 };
    const policy = (via: { host: string; port: number }) => ({ host: "192.168.100.11", port: 22, knownHostsPath: file, acceptNew: true, via });
    expect(await checkHostKey(blob(ws1OfLabA), policy(viaA))).toMatchObject({ verdict: "added" });
    // The second student's webserver1: same address, another machine, another key.
    expect(await checkHostKey(blob(ws1OfLabB), policy(viaB))).toMatchObject({ verdict: "added" });
    expect(readFileSync(file, "utf8")).toBe(`192.168.100.11@10.220.1.1 ${ws1OfLabA}\n192.168.100.11@10.220.2.1 ${ws1OfLabB}\n`);
    expect(knownHostsNameVia("192.168.100.11", 2222, { host: "10.220.2.1", port: 2200 })).toBe("[192.168.100.11]:2222@[10.220.2.1]:2200");
    expect(await checkHostKey(blob(ws1OfLabA), { ...policy(viaA), acceptNew: false })).toMatchObject({ verdict: "trusted" });
    expect(await checkHostKey(blob(ws1OfLabB), { ...policy(viaB), acceptNew: false })).toMatchObject({ verdict: "trusted" });
    // Lab B's key where lab A's machine is filed is a changed key.
    expect(await checkHostKey(blob(ws1OfLabB), policy(viaA))).toMatchObject({ verdict: "changed", knownHostsLine: 1 });
  });

  it("behind a jump host, the bare address (as ssh -J files it) trusts its own key and is no proof against another", async () => {
    const known = otherHostKeyLine("ed25519");
    const file = knownHostsFile(`192.168.100.11 ${known}\n`);
    const policy = { host: "192.168.100.11", port: 22, knownHostsPath: file, acceptNew: false, via: { host: "10.220.1.1", port: 22 } };
    expect(await checkHostKey(blob(known), policy)).toMatchObject({ verdict: "trusted" });
    // Another student's machine at that address: not known here, and not a changed key either.
    expect(await checkHostKey(blob(otherHostKeyLine("ed25519")), policy)).toMatchObject({ verdict: "unknown" });
    // Without a jump host the bare address is the machine itself: a changed key.
    const { via: _via, ...direct } = policy;
    expect(await checkHostKey(blob(otherHostKeyLine("ed25519")), direct)).toMatchObject({ verdict: "changed" });
  });

  it("with acceptNewHostKeys, a key of another type for a host already on file is a changed key (refused before logging in)", async () => {
    const content = `${NAME} ${otherHostKeyLine("rsa")}\n`;
    const file = knownHostsFile(content);
    // The server has no RSA key: it shows its Ed25519 key instead.
    const error = await connectError(pool({ knownHostsPath: file }, { acceptNewHostKeys: true }));
    expect(error.kind).toBe("host-key-changed");
    expect(error.details.knownHostsLine).toBe(1);
    expect(error.text.en).toContain("rsa");
    expect(readFileSync(file, "utf8")).toBe(content);
  });
});

describe("pinned fingerprints", () => {
  it("the right pin connects without any known_hosts", async () => {
    const file = knownHostsFile();
    const info = await pool({ hostKey: sshd.fingerprint, knownHostsPath: file }).get("balancer").connect();
    expect(info.hostKey).toBe("pinned");
    expect(existsSync(file)).toBe(false);
    // Padding and case of the prefix do not matter.
    const loose = `sha256:${sshd.fingerprint.slice("SHA256:".length)}=`;
    expect((await pool({ hostKey: loose, knownHostsPath: file }).get("balancer").connect()).hostKey).toBe("pinned");
  });

  it("a wrong pin is a changed key naming both fingerprints", async () => {
    const wrong = fingerprintOfLine(otherHostKeyLine("ed25519"));
    const error = await connectError(pool({ hostKey: wrong, knownHostsPath: knownHostsFile() }, { acceptNewHostKeys: true }));
    expect(error.kind).toBe("host-key-changed");
    expect(error.fingerprint).toBe(sshd.fingerprint);
    expect(error.details.expectedFingerprint).toBe(wrong);
    expect(error.text.es).toContain(wrong);
  });
});

describe("known_hosts syntax", () => {
  it("matches plain names, [host]:port, wildcards and negations like OpenSSH", () => {
    expect(knownHostsName("LB.Lab", 22)).toBe("lb.lab");
    expect(knownHostsName("10.0.0.1", 2222)).toBe("[10.0.0.1]:2222");
    expect(hostFieldMatches("lb.lab,10.0.0.1", "10.0.0.1")).toBe(true);
    expect(hostFieldMatches("10.0.0.1", "[10.0.0.1]:2222")).toBe(false);
    expect(hostFieldMatches("[10.0.0.1]:2222", "[10.0.0.1]:2222")).toBe(true);
    expect(hostFieldMatches("*.lab,!bad.lab", "good.lab")).toBe(true);
    expect(hostFieldMatches("*.lab,!bad.lab", "bad.lab")).toBe(false);
    expect(hostFieldMatches("192.168.100.?", "192.168.100.7")).toBe(true);
    expect(hostFieldMatches("192.168.100.?", "192.168.100.17")).toBe(false);
  });

  it("agrees with ssh-keygen on hashed names", () => {
    const file = knownHostsFile(`[10.9.8.7]:2200 ${otherHostKeyLine("ed25519")}\nlb.lab ${otherHostKeyLine("ed25519")}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const entries = parseKnownHosts(readFileSync(file, "utf8"));
    expect(entries).toHaveLength(2);
    expect(entries.every((e) => e.hostField.startsWith("|1|"))).toBe(true);
    expect(entries.filter((e) => hostFieldMatches(e.hostField, "[10.9.8.7]:2200"))).toHaveLength(1);
    expect(entries.filter((e) => hostFieldMatches(e.hostField, "lb.lab"))).toHaveLength(1);
    expect(entries.filter((e) => hostFieldMatches(e.hostField, "10.9.8.7"))).toHaveLength(0);
  });
});
