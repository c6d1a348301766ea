import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadSshCredentials, readPrivateKey, resolveSecret, SecretRegistry } from "../../src/config/secrets.js";
import type { ResolvedSshTarget } from "../../src/config/targets.js";
import { privateKeyPem } from "./workspace.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "hagrade-secrets-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("resolveSecret", () => {
  it("reads inline, environment and file secrets, registering each value", async () => {
    const registry = new SecretRegistry();
    await writeFile(path.join(dir, "pw.txt"), "from-file\r\n");
    expect(await resolveSecret("inline-pw", "ssh.password", { registry })).toEqual({ ok: true, value: "inline-pw" });
    expect(await resolveSecret({ env: "HAGRADE_PW" }, "ssh.password", { env: { HAGRADE_PW: "from-env" }, registry })).toEqual({ ok: true, value: "from-env" });
    expect(await resolveSecret({ file: path.join(dir, "pw.txt") }, "ssh.password", { registry })).toEqual({ ok: true, value: "from-file" });
    expect(registry.redact("inline-pw from-env from-file")).toBe("*** *** ***");
  });

  it("keeps inner newlines and trailing spaces of a file secret, dropping only the final newline", async () => {
    await writeFile(path.join(dir, "pw.txt"), " two\nlines \n");
    expect(await resolveSecret({ file: path.join(dir, "pw.txt") }, "ssh.password")).toEqual({ ok: true, value: " two\nlines " });
  });

  it("fails with a typed error naming the field: unset variable, missing, unreadable or empty file", async () => {
    const unset = await resolveSecret({ env: "HAGRADE_UNSET" }, "balancer.ssh.password", { env: {} });
    expect(unset.ok === false && [unset.error.kind, unset.error.field]).toEqual(["env-missing", "balancer.ssh.password"]);
    expect(unset.ok === false && unset.error.message.en).toContain("HAGRADE_UNSET");
    const empty = await resolveSecret({ env: "HAGRADE_EMPTY" }, "ssh.password", { env: { HAGRADE_EMPTY: "" } });
    expect(empty.ok === false && empty.error.kind).toBe("env-missing");
    const missing = await resolveSecret({ file: path.join(dir, "nope") }, "ssh.passphrase");
    expect(missing.ok === false && [missing.error.kind, missing.error.field]).toEqual(["file-missing", "ssh.passphrase"]);
    await mkdir(path.join(dir, "folder"));
    const folder = await resolveSecret({ file: path.join(dir, "folder") }, "ssh.passphrase");
    expect(folder.ok === false && folder.error.kind).toBe("file-unreadable");
    await writeFile(path.join(dir, "blank"), "\n");
    const blank = await resolveSecret({ file: path.join(dir, "blank") }, "ssh.passphrase");
    expect(blank.ok === false && blank.error.kind).toBe("file-empty");
  });
});

describe("SecretRegistry.redact", () => {
  it("replaces every occurrence, longer secrets first so no tail is left behind", () => {
    const registry = new SecretRegistry();
    registry.add("abcdef");
    registry.add("abcdefghijk");
    expect(registry.redact("x abcdefghijk y abcdef z abcdefghijkabcdef")).toBe("x *** y *** z ******");
  });

  it("also finds a secret in its JSON-escaped form", () => {
    const registry = new SecretRegistry();
    registry.add('pa"ss\\word');
    const saved = JSON.stringify({ evidence: 'login with pa"ss\\word failed' });
    expect(registry.redact(saved)).toBe(JSON.stringify({ evidence: "login with *** failed" }));
  });

  it("hides a private key whole and line by line", async () => {
    const pem = privateKeyPem();
    await writeFile(path.join(dir, "id"), pem, { mode: 0o600 });
    const registry = new SecretRegistry();
    const key = await readPrivateKey(path.join(dir, "id"), "ssh.privateKey", registry);
    expect(key.ok && key.key.toString()).toBe(pem);
    const body = pem.split("\n")[1] ?? "";
    expect(body.length).toBeGreaterThan(16);
    expect(registry.redact(`key:\n${pem}`)).toBe("key:\n***");
    expect(registry.redact(`parse error near ${body}`)).toBe("parse error near ***");
    expect(registry.redact(pem.replace(/\n/g, "\r\n"))).not.toContain(body);
    // The armour lines are not secret and stay readable.
    expect(registry.redact("-----BEGIN PRIVATE KEY-----")).toBe("-----BEGIN PRIVATE KEY-----");
  });

  it("redacts nested data, keys included, without touching the input", () => {
    const registry = new SecretRegistry();
    registry.add("s3cret");
    const evidence = { kind: "ssh", stderr: ["Permission denied for s3cret"], env: { s3cret: 1 }, exit: 255 };
    expect(registry.redactDeep(evidence)).toEqual({ kind: "ssh", stderr: ["Permission denied for ***"], env: { "***": 1 }, exit: 255 });
    expect(evidence.stderr[0]).toBe("Permission denied for s3cret");
  });

  it("leaves text alone when nothing is registered", () => {
    const registry = new SecretRegistry();
    registry.add("");
    expect(registry.size).toBe(0);
    expect(registry.redact("nothing to hide")).toBe("nothing to hide");
  });
});

describe("loadSshCredentials", () => {
  const target = (extra: Partial<ResolvedSshTarget>): ResolvedSshTarget => ({
    name: "balancer", host: "127.0.0.1", port: 22, user: "root", knownHostsPath: path.join(dir, "known_hosts"), sudo: false, ...extra,
  });

  it("reads key, passphrase and password, and registers all of them", async () => {
    const pem = privateKeyPem();
    await writeFile(path.join(dir, "id"), pem, { mode: 0o600 });
    await writeFile(path.join(dir, "pw"), "file-password\n");
    const registry = new SecretRegistry();
    const result = await loadSshCredentials(target({
      privateKeyPath: path.join(dir, "id"), passphrase: { env: "KEY_PASS" }, password: { file: path.join(dir, "pw") }, agent: "/tmp/agent.sock",
    }), registry, { KEY_PASS: "env-passphrase" });
    if (!result.ok) throw new Error(result.error.message.en);
    expect(result.credentials.privateKey?.toString()).toBe(pem);
    expect(result.credentials.passphrase).toBe("env-passphrase");
    expect(result.credentials.password).toBe("file-password");
    expect(result.credentials.agent).toBe("/tmp/agent.sock");
    expect(registry.redact(`env-passphrase file-password ${pem}`)).toBe("*** *** ***");
  });

  it("stops at the first unreadable secret, naming the machine and the field", async () => {
    const result = await loadSshCredentials(target({ name: "webserver2", password: { env: "NOT_SET" } }), new SecretRegistry(), {});
    expect(result.ok === false && result.error.field).toBe("ssh.password (webserver2)");
    const noKey = await loadSshCredentials(target({ privateKeyPath: path.join(dir, "missing") }), new SecretRegistry(), {});
    expect(noKey.ok === false && noKey.error.kind).toBe("file-missing");
  });
});
