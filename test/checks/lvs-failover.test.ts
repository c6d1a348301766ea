/**
 * lvs.failover on the real LVS lab (keepalived + IPVS in the qemu VM): with a health check the
 * VIP keeps serving while a web server is stopped, the server leaves the IPVS table and comes
 * back after it is started again (journaled and verified); with only one real server in the
 * configuration, stopping it takes the service down and the check fails.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";
import type { CheckResult } from "../../src/runner/types.js";
import { gradeSpecFile } from "../helpers/grade.js";

let lab: VmLab | undefined;
let journalDir: string;

beforeAll(async () => {
  journalDir = mkdtempSync(join(tmpdir(), "hagrade-lvs-failover-"));
  lab = await startVmLab({ variant: "rr" });
}, 300_000);

afterAll(async () => {
  await lab?.stop();
  rmSync(journalDir, { recursive: true, force: true });
});

async function failover(): Promise<CheckResult> {
  const result = await gradeSpecFile(lab!.specPath, { part: "lvs", disruptive: true, journalDir, only: ["net.vip-http", "lvs.failover"] });
  return result.checks.find((c) => c.id === "lvs.failover")!;
}

it("passes with TCP_CHECK: the VIP keeps serving, the server leaves the table and returns, and is left running", async () => {
  const check = await failover();
  expect(check.outcome, check.message.en).toBe("pass");
  const f = check.evidence.find((e) => e.kind === "failover") as unknown as { leftTable: boolean; rejoined: boolean };
  expect(f).toMatchObject({ leftTable: true, rejoined: true });
  const page = await lab!.webserverExec("webserver1", "curl -s -m 3 http://127.0.0.1/");
  expect(page.stdout).toContain("Bienvenido a webserver1");
}, 240_000);

it("fails when the other server is missing from the configuration: stopping one takes the service down", async () => {
  await lab!.setVariant("missing-real-server");
  const check = await failover();
  expect(check.outcome, check.message.en).toBe("fail");
  expect(check.fix?.en).toMatch(/real_server|health check/);
  const page = await lab!.webserverExec("webserver1", "curl -s -m 3 http://127.0.0.1/");
  expect(page.stdout).toContain("Bienvenido a webserver1");
}, 240_000);
