/**
 * proxy.failover on real labs: it passes on the correct lab and puts the server back; it
 * catches one machine serving both pages; and a grader killed with SIGKILL in the middle of
 * the failover leaves a journal that `hagrade restore` completes.
 */
import { spawn } from "node:child_process";
import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { loadSpec, type LabSpec } from "../../src/config/index.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { RunResult } from "../../src/runner/types.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

async function failover(lab: Lab, edit?: (spec: LabSpec) => void): Promise<RunResult> {
  const loaded = await loadSpec(lab.specPath);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  edit?.(loaded.spec);
  return gradeLab(loaded.spec, {
    lang: "en",
    part: "proxy",
    disruptive: true,
    long: false,
    interactive: false,
    acceptNewHostKeys: false,
    journalDir: join(lab.stateDir, "journal"),
    only: ["net.vip-http", "proxy.failover"],
  });
}

/** The page a web server serves on its own address, fetched inside that host. */
async function localPage(lab: Lab, host: "ws1" | "ws2"): Promise<string> {
  return (await lab.hostExec(host, "curl -s -m 3 http://127.0.0.1/ || true")).stdout;
}

const labs: Lab[] = [];
afterAll(async () => {
  await Promise.all(labs.map((l) => l.stop()));
});

describe("proxy.failover", () => {
  let correct: Lab;
  let cheat: Lab;
  let killed: Lab;
  beforeAll(async () => {
    const started = await Promise.allSettled([
      startLab({ variant: "correct" }),
      startLab({ variant: "single-server-cheat" }),
      startLab({ variant: "correct" }),
    ]);
    for (const s of started) if (s.status === "fulfilled") labs.push(s.value);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    [correct, cheat, killed] = labs as [Lab, Lab, Lab];
  }, 180_000);

  it("is inconclusive, not passed, when the web server cannot be stopped, and changes nothing", async () => {
    const result = await failover(correct, (spec) => {
      spec.backends[0]!.service.stop = "echo 'stop refused' >&2; exit 3";
    });
    const check = result.checks.find((c) => c.id === "proxy.failover")!;
    expect(check.outcome, check.message.en).toBe("inconclusive");
    expect(check.message.en).toMatch(/Could not stop webserver1's web server.*stop refused/);
    const restore = check.evidence.find((e) => e.kind === "restore") as unknown as { restored: boolean; change: { code: number } };
    expect(restore).toMatchObject({ restored: true, change: { code: 3 } });
    expect(await localPage(correct, "ws1")).toContain("Bienvenido a webserver1");
  }, 240_000);

  it("passes on the correct lab, measures the outage and the rejoin, and leaves the lab as it was", async () => {
    const result = await failover(correct);
    const check = result.checks.find((c) => c.id === "proxy.failover")!;
    expect(check.outcome, check.message.en).toBe("pass");
    const f = check.evidence.find((e) => e.kind === "failover") as unknown as Record<string, unknown> & { timeline: { label: string }[] };
    expect(f.failedRequests as number).toBeLessThanOrEqual(1);
    expect(f.rejoined).toBe(true);
    expect(f.timeline.some((m) => m.label === "webserver2")).toBe(true);
    const restore = check.evidence.find((e) => e.kind === "restore") as unknown as { restored: boolean; status: string };
    expect(restore).toMatchObject({ restored: true, status: "verified" });
    expect(await localPage(correct, "ws1")).toContain("Bienvenido a webserver1");
    // Nothing is left pending once the restore is verified.
    const dir = join(correct.stateDir, "journal");
    expect(existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : []).toEqual([]);
  }, 240_000);

  it("fails when one server serves both pages, and restores it", async () => {
    const result = await failover(cheat);
    const check = result.checks.find((c) => c.id === "proxy.failover")!;
    expect(check.outcome).toBe("fail");
    expect(check.message.en).toMatch(/both pages come from one server/);
    expect(await localPage(cheat, "ws1")).toContain("Bienvenido a webserver1");
  }, 240_000);

  it("after SIGKILL in the middle of the failover, `hagrade restore` brings the web server back", async () => {
    const journalDir = join(killed.stateDir, "journal");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(ROOT, "src/bin.ts"), "run", "--spec", killed.specPath, "--disruptive", "--only", "proxy.failover", "--journal-dir", journalDir, "--reporter", "console"],
      { cwd: ROOT, stdio: "ignore" },
    );
    const exited = new Promise((r) => child.once("exit", r));
    // Kill it once the web server is really down (the journal was written before that).
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const page = await localPage(killed, "ws1");
      if (!page.includes("Bienvenido")) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await localPage(killed, "ws1")).not.toContain("Bienvenido");
    child.kill("SIGKILL");
    await exited;
    expect(readdirSync(journalDir).some((f) => f.endsWith(".json"))).toBe(true);

    const restore = await run(process.execPath, ["--import", "tsx", join(ROOT, "src/bin.ts"), "restore", "--dir", journalDir, "--lang", "en"], {
      cwd: ROOT,
      timeout: 120_000,
    });
    expect(restore.stdout).toMatch(/webserver1/);
    expect(await localPage(killed, "ws1")).toContain("Bienvenido a webserver1");
    expect(readdirSync(journalDir).filter((f) => f.endsWith(".json"))).toEqual([]);
  }, 240_000);
});
