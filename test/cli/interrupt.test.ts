/**
 * Ctrl-C during `hagrade run --disruptive` on the real reference lab (network namespaces, real
 * Apache and sshd), through the real command line: the run says what it is putting back (the
 * web server it stopped) and that it was restored; cut short by a second Ctrl-C, it prints the
 * exact `hagrade restore` line, and that line, run as printed, finishes the job.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { listPendingJournals } from "../../src/ssh/index.js";
import { CLI, hagrade } from "./hagrade.js";

let lab: Lab | undefined;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "hagrade-interrupt-"));
  lab = await startLab({ variant: "correct" });
}, 180_000);

afterAll(async () => {
  await lab?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Interrupted {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Grades proxy.failover and sends SIGINT as soon as its journal holds a change not yet undone
 * (the web server is stopped, or about to be); `twice` sends a second one right after the run
 * answers the first.
 */
async function interruptFailover(journalDir: string, twice: boolean): Promise<Interrupted> {
  const args = ["run", "--spec", lab!.specPath, "--part", "proxy", "--disruptive", "--only", "net.vip-http,proxy.failover"];
  const child = spawn(process.execPath, [...CLI, ...args, "--journal-dir", journalDir, "--reporter", "console", "--lang", "en"], {
    cwd: work,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr.on("data", (b: Buffer) => {
    stderr += b.toString();
    if (twice && stderr.includes("putting back")) child.kill("SIGINT");
  });
  const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
  const poll = setInterval(() => {
    if (listPendingJournals(journalDir).some((j) => j.pid === child.pid && j.entries.some((e) => e.status === "applied"))) {
      clearInterval(poll);
      child.kill("SIGINT");
    }
  }, 50);
  const bound = setTimeout(() => child.kill("SIGKILL"), 240_000);
  const code = await exited;
  clearInterval(poll);
  clearTimeout(bound);
  return { code, stdout, stderr };
}

describe("Ctrl-C while a web server is stopped", () => {
  it("says what it puts back, puts it back, says so, and exits 130", async () => {
    const journalDir = join(work, "once");
    const r = await interruptFailover(journalDir, false);
    expect(r.stdout).toContain("START proxy.failover");
    expect(r.stderr).toMatch(/^Interrupted: putting back what the run changed before exiting/m);
    // The stopped web server, named by its host and address, with the step's own description.
    const step = r.stderr.split("\n").find((l) => l.startsWith("  webserver1 ("));
    expect(step, r.stderr).toContain(lab!.addresses.webservers.ws1);
    expect(step).toMatch(/\): Stop webserver1's web server/);
    expect(r.stderr).toContain("Restored and verified: the lab is as it was.");
    expect(r.stderr).not.toContain("hagrade restore");
    expect(r.code).toBe(130);
    expect(listPendingJournals(journalDir)).toEqual([]);
  }, 300_000);

  it("cut short by a second Ctrl-C, prints the exact hagrade restore line, which finishes the job", async () => {
    const journalDir = join(work, "twice");
    const r = await interruptFailover(journalDir, true);
    expect(r.stderr).toContain("Exited before everything was restored. To finish it, run:");
    const line = r.stderr.split("\n").find((l) => l.startsWith("  hagrade restore "));
    expect(line, r.stderr).toBeDefined();
    const pending = listPendingJournals(journalDir);
    expect(pending.length).toBe(1);
    expect(line!.trim()).toBe(`hagrade restore --journal ${pending[0]!.file} --spec ${lab!.specPath}`);
    // The line as printed (the paths here need no quoting), run from another folder.
    const restore = await hagrade([...line!.trim().split(" ").slice(1), "--force", "--lang", "en"], tmpdir());
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(listPendingJournals(journalDir)).toEqual([]);
  }, 300_000);
});
