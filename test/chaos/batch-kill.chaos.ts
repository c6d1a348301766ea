/**
 * A class graded with `hagrade batch --disruptive` is killed (SIGKILL) while every lab has a web  *
 * server stopped. The three labs have the same server network (10.221.0.11 and .12 behind each  *
 * one's own balancer, as every student's lab has the lab text's 192.168.100.11 and .12).  * The labs
 * share one known_hosts, empty at first (--accept-new-host-keys): each student's web  * server is
 * filed under its own balancer, so the second and third labs are not refused as  * changed keys. A
 * plain `hagrade restore`, run from another folder, must find the batch's journals, bring each  *
 * lab back exactly as it was, and send each lab only its own undo: checked against what every  *
 * host's sshd logged after the kill.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import type { JournalDocument } from "../../src/ssh/index.js";
import { unwrapRemote } from "../helpers/shell-words.js";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "src/bin.ts");
/** tsx by path: the commands run from folders outside the repository. */
const TSX = pathToFileURL(join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
const LABS = 3;
const SERVER_HOSTS = ["balancer", "ws1", "ws2"] as const;

const labs: Lab[] = [];
let work: string;

function hagrade(args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ["--import", TSX, BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return { child, exited, output: () => output };
}

/** What a disruptive Part 2 check changes: which Apache runs on each host and the pages it serves. */
async function labState(lab: Lab): Promise<string> {
  const parts: string[] = [];
  for (const host of SERVER_HOSTS) {
    const r = await lab.hostExec(host, "if pgrep -x apache2 >/dev/null; then echo running; else echo stopped; fi; md5sum < /var/www/html/index.html");
    parts.push(`${host}: ${r.stdout.trim().replace(/\n/g, " ")}`);
  }
  return parts.join("; ");
}

function journals(dir: string): JournalDocument[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(".journal.json"))
    .flatMap((n) => {
      try {
        return [JSON.parse(readFileSync(join(dir, n), "utf8")) as JournalDocument];
      } catch {
        return [];
      }
    });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "hagrade-batch-kill-"));
  const started = await Promise.allSettled(Array.from({ length: LABS }, () => startLab({ sharedServerNetwork: true, logCommands: true })));
  for (const s of started) if (s.status === "fulfilled") labs.push(s.value);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
}, 300_000);

afterAll(async () => {
  await Promise.all(labs.map((l) => l.stop()));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("hagrade batch --disruptive killed with SIGKILL, labs with the same server addresses", () => {
  it("hagrade restore finds the batch's journals and restores each lab on its own machines only", async () => {
    // The labs really share their server network: only the balancer tells them apart.
    expect(new Set(labs.map((l) => l.spec.backends[0]!.address))).toEqual(new Set(["10.221.0.11"]));
    const template = join(work, "template.yaml");
    writeFileSync(template, readFileSync(labs[0]!.specPath, "utf8"));
    // One known_hosts for the class, empty: every key is learnt on first use, as a teacher's would be.
    const knownHosts = join(work, "known_hosts");
    writeFileSync(knownHosts, "");
    const header = "id,vip.address,balancer.serviceAddress,balancer.ssh.host,grader.sourceAddresses,ssh.privateKey,ssh.knownHosts";
    const rows = labs.map((lab, i) => {
      const s = lab.spec;
      return [`S${i + 1}`, s.vip.address, s.balancer.serviceAddress, s.balancer.ssh.host, `"[${s.grader.sourceAddresses.slice(0, 2).join(", ")}]"`, s.ssh.privateKey, knownHosts].join(",");
    });
    writeFileSync(join(work, "roster.csv"), [header, ...rows].join("\n") + "\n");
    const out = join(work, "out");
    const elsewhere = join(work, "elsewhere");
    mkdirSync(elsewhere);
    const env = { HAGRADE_STATE_DIR: join(work, "state") };

    const before = await Promise.all(labs.map(labState));
    const batch = hagrade(
      ["batch", "--roster", join(work, "roster.csv"), "--spec-template", template, "--out", out, "--disruptive", "--part", "proxy", "--only", "net.vip-http,proxy.failover", "--concurrency", String(LABS), "--accept-new-host-keys", "--lang", "en"],
      work,
      env,
    );
    // Kill once every lab's web server is stopped (its journal entry applied).
    const journalDir = join(out, ".journal");
    const deadline = Date.now() + 240_000;
    const applied = () => new Set(journals(journalDir).filter((j) => j.entries.some((e) => e.status === "applied")).map((j) => j.lab));
    while (applied().size < LABS && Date.now() < deadline && batch.child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(applied().size, batch.output()).toBe(LABS);
    batch.child.kill("SIGKILL");
    await batch.exited;

    // Each student's webserver1 (the same address in every lab) is filed under its own balancer.
    const filed = readFileSync(knownHosts, "utf8");
    for (const lab of labs) expect(filed).toContain(`10.221.0.11@${lab.spec.balancer.ssh.host} `);

    const killed = await Promise.all(labs.map(labState));
    // A lab ahead of the others may be starting its web server again when the batch dies (its
    // entry stays "applied" until that start returns, and it is then verified, not undone, by the
    // restore): the kill must have caught at least one lab changed. Each lab's restore commands are
    // checked below either way.
    const changed = killed.filter((state, i) => state !== before[i]);
    expect(changed.length, `no lab was changed when the batch was killed:\n${killed.join("\n")}`).toBeGreaterThan(0);
    const pending = journals(journalDir);
    expect(new Set(pending.map((j) => j.lab))).toEqual(new Set(["S1", "S2", "S3"]));
    // Each journal carries its own student's lab, not the template's.
    for (const [i, lab] of labs.entries()) {
      const doc = pending.find((j) => j.lab === `S${i + 1}`)!;
      expect(doc.entries[0]?.target?.via?.host).toBe(lab.spec.balancer.ssh.host);
    }

    // Commands in flight when the grader died are logged by now.
    await new Promise((r) => setTimeout(r, 1000));
    const restoreStart = Date.now();
    const restore = hagrade(["restore", "--lang", "en"], elsewhere, env);
    const code = await restore.exited;
    expect(restore.output()).toContain(journalDir);
    expect(code, restore.output()).toBe(0);

    const after = await Promise.all(labs.map(labState));
    expect(after).toEqual(before);
    expect(journals(journalDir)).toEqual([]);

    // What each lab's sshds ran since: its own journal's undo and verify commands, nothing else.
    for (const [i, lab] of labs.entries()) {
      const own = pending.filter((j) => j.lab === `S${i + 1}`).flatMap((j) => j.entries);
      const allowed = new Set(own.flatMap((e) => [e.undo, e.verify]));
      const received = SERVER_HOSTS.flatMap((host) => lab.sshCommands(host).filter((c) => c.atMs >= restoreStart).map((c) => ({ host, command: unwrapRemote(c.command) })));
      expect(received.length, `lab ${i} received its restore`).toBeGreaterThan(0);
      for (const r of received) expect(allowed.has(r.command), `lab ${i} ${r.host} ran: ${r.command}`).toBe(true);
      const hostOf = (name: string) => (name === "webserver1" ? "ws1" : name === "webserver2" ? "ws2" : "balancer");
      for (const r of received) expect(own.some((e) => hostOf(e.host) === r.host)).toBe(true);
    }
  });
});
