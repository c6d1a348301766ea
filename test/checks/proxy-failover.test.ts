/**
 * proxy.failover on a real lab, where the restore itself is at stake: a stop command that fails
 * changes nothing and is inconclusive, and a grader killed with SIGKILL in the middle of the
 * failover leaves a journal that `hagrade restore --journal FILE` completes. Its verdict on
 * every variant (and the --disruptive gate) is in proxy-failover-variants.test.ts.
 */
import { execFile, spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import type { LabSpec } from "../../src/config/index.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { RunResult } from "../../src/runner/types.js";
import { gradeOptions, loadLabSpec } from "../helpers/grade.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "src/bin.ts");

/** Runs the hagrade CLI to its end; a non-zero exit is a result, not an exception. */
async function hagrade(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ["--import", "tsx", BIN, ...args], { cwd: ROOT, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? String(error) };
  }
}

async function failover(lab: Lab, edit?: (spec: LabSpec) => void): Promise<RunResult> {
  const spec = await loadLabSpec(lab.specPath);
  edit?.(spec);
  return gradeLab(spec, gradeOptions({ part: "proxy", disruptive: true, journalDir: join(lab.stateDir, "journal"), only: ["net.vip-http", "proxy.failover"] }));
}

/** The page a web server serves on its own address, fetched inside that host. */
async function localPage(lab: Lab, host: "ws1" | "ws2"): Promise<string> {
  return (await lab.hostExec(host, "curl -s -m 3 http://127.0.0.1/ || true")).stdout;
}

let lab: Lab | undefined;
afterAll(async () => {
  await lab?.stop();
});

describe("proxy.failover", () => {
  let correct: Lab;
  beforeAll(async () => {
    lab = await startLab({ variant: "correct" });
    correct = lab;
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

  it("after SIGKILL in the middle of the failover, `hagrade restore --journal FILE` brings the web server back", async () => {
    const journalDir = join(correct.stateDir, "journal-killed");
    const child = spawn(
      process.execPath,
      ["--import", "tsx", BIN, "run", "--spec", correct.specPath, "--disruptive", "--only", "proxy.failover", "--journal-dir", journalDir, "--reporter", "console"],
      { cwd: ROOT, stdio: "ignore" },
    );
    const exited = new Promise((r) => child.once("exit", r));
    try {
      // Kill it once the web server is really down (the journal was written before that).
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const page = await localPage(correct, "ws1");
        if (!page.includes("Bienvenido")) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(await localPage(correct, "ws1")).not.toContain("Bienvenido");
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
    const pending = readdirSync(journalDir).filter((f) => f.endsWith(".json"));
    expect(pending).toHaveLength(1);

    const restore = await hagrade(["restore", "--journal", join(journalDir, pending[0]!), "--lang", "en"]);
    expect(restore.code, restore.stdout + restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/✔ webserver1: .* — verified/);
    expect(await localPage(correct, "ws1")).toContain("Bienvenido a webserver1");
    expect(readdirSync(journalDir).filter((f) => f.endsWith(".json"))).toEqual([]);
    // Replayed once: the folder form finds nothing left to do.
    const again = await hagrade(["restore", "--dir", journalDir, "--lang", "en"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Nothing to restore");
  }, 240_000);
});
