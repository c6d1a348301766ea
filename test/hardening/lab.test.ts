/**
 * Hardening against the real reference lab (network namespaces, real Apache and sshd), through
 * the real command line:
 * - secrets never leak: a full disruptive grade with an encrypted key (passphrase from the
 *   environment) and a password file, every reporter on and the restore journal watched while
 *   it exists; then the same with a wrong passphrase. No output holds a secret or a line of a key.
 * - whose fault: a key the grader cannot use is `error` naming the file; a balancer whose SSH
 *   port is closed skips the SSH checks with one reason; the student's faults stay `fail`.
 * - a web server host that drops packets behind the balancer (Apache would hold each request
 *   up to its Timeout) does not stall the run: the checks end within their budgets.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { hagrade, STACK_FRAME, type CliRun } from "./cli.js";

const PASSPHRASE = `pp-${randomBytes(12).toString("hex")}`;
const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
const PASSPHRASE_ENV = "HG_TEST_KEY_PASSPHRASE";

let lab: Lab | undefined;
let work: string;
let encryptedKey: string;
let passwordFile: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "hagrade-hardening-lab-"));
  lab = await startLab({ variant: "correct" });
  // The lab's key, encrypted with a passphrase: what a careful teacher hands hagrade.
  encryptedKey = join(work, "id_encrypted");
  copyFileSync(join(lab.stateDir, "id_ed25519"), encryptedKey);
  execFileSync("ssh-keygen", ["-q", "-p", "-P", "", "-N", PASSPHRASE, "-f", encryptedKey]);
  passwordFile = join(work, "password.txt");
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
}, 180_000);

afterAll(async () => {
  await lab?.stop();
  await rm(work, { recursive: true, force: true });
});

/** The lab's spec with `edit` applied, written next to the test's files. */
/** The parts of the lab's spec the tests change. */
interface SpecDoc {
  ssh: Record<string, unknown>;
  balancer: { ssh: Record<string, unknown> };
  timeouts?: Record<string, number>;
}

function specWith(name: string, edit: (spec: SpecDoc) => void): string {
  const spec = parseYaml(readFileSync(lab!.specPath, "utf8")) as SpecDoc;
  edit(spec);
  const file = join(work, `${name}.yaml`);
  writeFileSync(file, stringifyYaml(spec));
  return file;
}

/** Every non-empty base64 line of a key file (what a log could show of it). */
function keyLines(file: string): string[] {
  return readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith("-----"));
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  // A journal is written to .tmp and renamed: a file listed may be gone by the time it is looked at.
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((f) => join(dir, f)).filter((f) => statSync(f, { throwIfNoEntry: false })?.isFile() === true);
}

/** Copies every version of every journal file while the run writes it (a finished journal is deleted). */
function watchJournals(dir: string, into: string): () => number {
  mkdirSync(into, { recursive: true });
  const seen = new Map<string, string>();
  const timer = setInterval(() => {
    for (const file of filesUnder(dir)) {
      try {
        const content = readFileSync(file, "utf8");
        if (seen.get(file) === content) continue;
        seen.set(file, content);
        writeFileSync(join(into, `${seen.size}-${Date.now()}-${relative(dir, file).replace(/\//g, "_")}`), content);
      } catch {
        // Renamed or removed between listing and reading: the next tick sees the new one.
      }
    }
  }, 50);
  return () => {
    clearInterval(timer);
    return filesUnder(into).length;
  };
}

interface Leak {
  where: string;
  what: string;
}

function leaks(outputs: Record<string, string>, secrets: Record<string, string>): Leak[] {
  const found: Leak[] = [];
  for (const [where, content] of Object.entries(outputs)) {
    for (const [what, value] of Object.entries(secrets)) if (content.includes(value)) found.push({ where, what });
  }
  return found;
}

function secretsToLookFor(): Record<string, string> {
  const secrets: Record<string, string> = { passphrase: PASSPHRASE, password: PASSWORD };
  keyLines(encryptedKey).forEach((line, i) => (secrets[`encrypted key line ${i + 1}`] = line));
  keyLines(join(lab!.stateDir, "id_ed25519")).forEach((line, i) => (secrets[`plain key line ${i + 1}`] = line));
  return secrets;
}

function outputsOf(run: CliRun, dirs: string[]): Record<string, string> {
  const outputs: Record<string, string> = { stdout: run.stdout.toString("utf8"), stderr: run.stderr.toString("utf8") };
  for (const dir of dirs) for (const file of filesUnder(dir)) outputs[file] = readFileSync(file, "utf8");
  return outputs;
}

interface Result {
  checks: { id: string; outcome: string; message: { en: string }; fix?: { en: string }; evidence: Record<string, unknown>[] }[];
  traffic: { sshCommands: number };
}

function resultIn(dir: string): Result {
  return JSON.parse(readFileSync(join(dir, "result.json"), "utf8")) as Result;
}

const byId = (r: Result) => Object.fromEntries(r.checks.map((c) => [c.id, c]));

const SSH_CHECKS = ["net.ip-forward", "net.nat", "net.gateway", "proxy.keepalived-stopped", "proxy.modules"];

/**
 * Waits until the VIP serves both pages again. After a disruptive grade Apache keeps the stopped
 * server out for its retry (60 s), so a test that follows one must not start before it ends.
 */
async function untilBothServe(boundMs = 120_000): Promise<void> {
  const until = Date.now() + boundMs;
  let seen = new Set<string>();
  while (Date.now() < until) {
    seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await lab!.hostExec("client", `curl -s -m 3 http://${lab!.addresses.vip}/`);
      seen.add(/webserver(\d)/.exec(r.stdout)?.[1] ?? "?");
    }
    if (seen.has("1") && seen.has("2")) return;
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`the VIP did not serve both pages within ${boundMs / 1000} s: saw ${[...seen].join(",")}`);
}

describe("secrets never leak", () => {
  it("a full disruptive grade with an encrypted key and a password file: no output holds a secret", async () => {
    const spec = specWith("encrypted", (s) => {
      s.ssh.privateKey = encryptedKey;
      s.ssh.passphrase = { env: PASSPHRASE_ENV };
      s.ssh.password = { file: passwordFile };
    });
    const out = join(work, "full");
    const journal = join(work, "full-journal");
    const stopWatching = watchJournals(journal, join(work, "full-journal-copies"));
    let run: CliRun;
    try {
      run = await hagrade(
        ["run", "--spec", spec, "--part", "proxy", "--disruptive", "--lang", "en", "--reporter", "console,json,junit,html", "--out", out, "--journal-dir", journal],
        { env: { [PASSPHRASE_ENV]: PASSPHRASE }, boundMs: 600_000 },
      );
    } finally {
      expect(stopWatching(), "the restore journal was seen while it existed").toBeGreaterThan(0);
    }
    const result = resultIn(out);
    // The grade really used the secrets: SSH checks ran (and the key was decrypted with the passphrase).
    expect(result.traffic.sshCommands, run.stdout.toString()).toBeGreaterThan(5);
    expect(byId(result)["proxy.modules"]?.outcome).toBe("pass");
    expect(byId(result)["proxy.failover"]?.outcome).toBe("pass");
    expect(["junit.xml", "scorecard.html", "result.json"].every((f) => existsSync(join(out, f)))).toBe(true);
    const outputs = outputsOf(run, [out, journal, join(work, "full-journal-copies")]);
    expect(Object.keys(outputs).length).toBeGreaterThanOrEqual(6);
    expect(leaks(outputs, secretsToLookFor())).toEqual([]);
    // The search finds what is there: the key and the password file hold their secrets.
    const planted = leaks({ key: readFileSync(encryptedKey, "utf8"), password: readFileSync(passwordFile, "utf8") }, secretsToLookFor());
    expect(planted.map((l) => l.what)).toEqual(expect.arrayContaining(["password", "encrypted key line 1"]));
  }, 660_000);

  it("with a wrong passphrase: the SSH checks are the grader's error naming the key file, and nothing leaks", async () => {
    const spec = specWith("wrong-passphrase", (s) => {
      s.ssh.privateKey = encryptedKey;
      s.ssh.passphrase = { env: PASSPHRASE_ENV };
      s.ssh.password = { file: passwordFile };
    });
    const out = join(work, "wrong");
    const wrong = `${PASSPHRASE}-wrong`;
    const run = await hagrade(
      ["run", "--spec", spec, "--part", "proxy", "--only", ["net.vip-http", ...SSH_CHECKS].join(","), "--lang", "en", "--out", out, "--journal-dir", join(work, "wrong-journal")],
      { env: { [PASSPHRASE_ENV]: wrong }, boundMs: 180_000 },
    );
    const result = resultIn(out);
    expect(run.code, "exit code 3: the grader's environment").toBe(3);
    expect(byId(result)["net.vip-http"]?.outcome).toBe("pass");
    for (const id of SSH_CHECKS) {
      const check = byId(result)[id]!;
      expect(check.outcome, `${id}: ${check.message.en}`).toBe("error");
      expect(check.message.en).toContain(encryptedKey);
      expect(check.fix?.en).toMatch(/passphrase/);
    }
    expect(leaks(outputsOf(run, [out]), { ...secretsToLookFor(), "wrong passphrase": wrong })).toEqual([]);
  }, 240_000);
});

describe("whose fault", () => {
  beforeAll(() => untilBothServe(), 150_000);

  it("a key file the grader cannot use is `error` naming the file, never `fail`", async () => {
    const broken = join(work, "id_broken");
    writeFileSync(broken, "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbCwganVzdCB0ZXh0\n-----END OPENSSH PRIVATE KEY-----\n", { mode: 0o600 });
    const spec = specWith("broken-key", (s) => {
      s.ssh.privateKey = broken;
    });
    const out = join(work, "broken");
    const run = await hagrade(["run", "--spec", spec, "--part", "proxy", "--only", ["net.vip-http", ...SSH_CHECKS].join(","), "--lang", "en", "--out", out], { boundMs: 180_000 });
    expect(STACK_FRAME.test(run.stderr.toString())).toBe(false);
    expect(run.code).toBe(3);
    const result = resultIn(out);
    for (const id of SSH_CHECKS) {
      const check = byId(result)[id]!;
      expect(check.outcome, `${id}: ${check.message.en}`).toBe("error");
      expect(check.message.en).toContain(broken);
    }
  }, 240_000);

  it("a balancer whose SSH port is closed: every SSH check skipped with one reason, the HTTP checks still graded", async () => {
    const spec = specWith("ssh-closed", (s) => {
      // Nothing listens on this port of the balancer: the kernel refuses at once.
      s.balancer.ssh.port = 2;
    });
    const out = join(work, "ssh-closed");
    const run = await hagrade(["run", "--spec", spec, "--part", "proxy", "--only", ["net.vip-http", "net.two-backends", ...SSH_CHECKS].join(","), "--lang", "en", "--out", out], { boundMs: 180_000 });
    const result = resultIn(out);
    const checks = byId(result);
    expect(checks["net.vip-http"]?.outcome).toBe("pass");
    expect(checks["net.two-backends"]?.outcome).toBe("pass");
    const reasons = new Set(SSH_CHECKS.map((id) => checks[id]!.message.en));
    expect(SSH_CHECKS.map((id) => checks[id]!.outcome)).toEqual(SSH_CHECKS.map(() => "skipped"));
    expect(reasons.size, [...reasons].join("\n")).toBe(1);
    expect([...reasons][0]).toMatch(/balancer does not answer SSH.*refused/);
    // A lab whose balancer does not answer SSH is the lab's state, not the grader's error (exit 3).
    expect(run.code).toBe(1);
  }, 240_000);

  it("a student's fault stays `fail`: ip_forward off on the balancer", async () => {
    await lab!.hostExec("balancer", "sysctl -qw net.ipv4.ip_forward=0");
    try {
      const out = join(work, "forward-off");
      const run = await hagrade(["run", "--spec", lab!.specPath, "--part", "proxy", "--only", "net.vip-http,net.ip-forward", "--lang", "en", "--out", out], { boundMs: 120_000 });
      const check = byId(resultIn(out))["net.ip-forward"]!;
      expect(check.outcome, check.message.en).toBe("fail");
      expect(check.fix?.en).toMatch(/ip_forward/);
      expect(run.code).toBe(1);
    } finally {
      await lab!.hostExec("balancer", "sysctl -qw net.ipv4.ip_forward=1");
    }
  }, 180_000);
});

describe("a web server host that drops packets behind the balancer", () => {
  let run: CliRun;
  let result: Result;
  beforeAll(async () => {
    await untilBothServe();
    const ws1 = lab!.addresses.webservers.ws1;
    // byrequests with 3:1 repeats 1,1,2,1: after two answers of webserver1 the next request goes to
    // webserver2, so the grade's first request (net.vip-http) gets an answer and the samples run.
    const last: string[] = [];
    for (let i = 0; i < 8 && !(last.length >= 2 && last.slice(-2).every((w) => w === "1")); i++) {
      const r = await lab!.hostExec("client", `curl -s -m 3 http://${lab!.addresses.vip}/`);
      last.push(/webserver(\d)/.exec(r.stdout)?.[1] ?? "?");
    }
    if (last.slice(-2).join() !== "1,1") throw new Error(`byrequests' order is not 1,1,2,1: ${last.join()}`);
    // Packets from the balancer to webserver1 vanish: Apache's connect hangs (its Timeout is 300 s).
    const drop = await lab!.hostExec("balancer", `nft add table inet hgdrop && nft add chain inet hgdrop out '{ type filter hook output priority 0; }' && nft add rule inet hgdrop out ip daddr ${ws1} drop`);
    if (drop.code !== 0) throw new Error(drop.stderr);
    try {
      const spec = specWith("ws1-dropped", (s) => {
        s.timeouts = { connect: 1000, request: 2000, ssh: 4000 };
      });
      const out = join(work, "ws1-dropped");
      run = await hagrade(["run", "--spec", spec, "--part", "proxy", "--lang", "en", "--out", out, "--reporter", "console,json"], { boundMs: 1_200_000 });
      result = resultIn(out);
    } finally {
      await lab!.hostExec("balancer", "nft delete table inet hgdrop");
    }
  }, 1_260_000);

  it("does not stall the run: every check ends within its budget, the faults behind the balancer are not passed", () => {
    expect(run.killed, run.stdout.toString()).toBe(false);
    expect(STACK_FRAME.test(run.stderr.toString())).toBe(false);
    const checks = byId(result);
    // webserver2 still answers through the VIP.
    expect(checks["net.vip-http"]?.outcome, checks["net.vip-http"]?.message.en).toBe("pass");
    // What the balancer itself shows still passes: the fault is behind it.
    expect(checks["proxy.modules"]?.outcome).toBe("pass");
    expect(checks["net.ip-forward"]?.outcome).toBe("pass");
    // Nothing that needs webserver1 passes.
    for (const id of ["net.two-backends", "proxy.round-robin", "proxy.loadfactor", "proxy.sticky"]) {
      expect(["fail", "inconclusive"], `${id}: ${checks[id]?.message.en}`).toContain(checks[id]?.outcome);
    }
    // webserver1 cannot be reached over SSH either: undecided, not the student's fail.
    expect(checks["net.gateway"]?.outcome, checks["net.gateway"]?.message.en).toBe("inconclusive");
    expect(checks["net.gateway"]?.message.en).toMatch(/webserver1.*10\.221\.\d+\.11:22/);
    // The ratio saw the requests that hung and says so.
    expect(checks["proxy.loadfactor"]?.message.en).toMatch(/error:headers-timeout/);
  });

  // Each of its samples has a deadline inside the check's budget: it fails with the counts
  // instead of meeting the runner's deadline and losing what it saw.
  it("net.two-backends fails naming webserver1 and the timeouts, instead of running out of time", () => {
    const check = byId(result)["net.two-backends"]!;
    expect(check.outcome, check.message.en).toBe("fail");
    expect(check.message.en).toMatch(/webserver1.*headers-timeout/);
  });
});
