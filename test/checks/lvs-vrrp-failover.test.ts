/**
 * lvs.vrrp-failover on the real LVS lab with two directors sharing the VIP by VRRP (qemu VM,
 * directors as namespaces): stopping keepalived on the MASTER moves the VIP to the BACKUP, which
 * keeps serving (the outage and failed requests are measured), and keepalived is started again
 * (journaled, verified by the MASTER holding the VIP again). With the BACKUP's keepalived down,
 * the VIP goes dark and the check fails. A spec naming one director leaves it out of the score.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";
import type { LabSpec } from "../../src/config/schema.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { CheckResult } from "../../src/runner/types.js";
import { gradeOptions, loadLabSpec } from "../helpers/grade.js";

let lab: VmLab | undefined;
let journalDir: string;

beforeAll(async () => {
  journalDir = mkdtempSync(join(tmpdir(), "hagrade-lvs-vrrp-"));
  lab = await startVmLab({ variant: "rr", directors: 2 });
}, 300_000);

afterAll(async () => {
  await lab?.stop();
  rmSync(journalDir, { recursive: true, force: true });
}, 60_000);

async function vrrp(edit: (spec: LabSpec) => LabSpec = (s) => s): Promise<{ check: CheckResult; maxScore: number }> {
  const spec = edit(await loadLabSpec(lab!.specPath));
  const result = await gradeLab(spec, gradeOptions({ part: "lvs", disruptive: true, journalDir, only: ["net.vip-http", "lvs.vrrp-failover"] }));
  return { check: result.checks.find((c) => c.id === "lvs.vrrp-failover")!, maxScore: result.maxScore };
}

interface VrrpEvidence {
  masterReleased: boolean | null;
  outageMs: number | null;
  failedRequests: number;
}
const measured = (c: CheckResult) => c.evidence.find((e) => e.kind === "vrrp-failover") as unknown as VrrpEvidence;

it("is left out of the score when the spec names one director", async () => {
  const { check, maxScore } = await vrrp((spec) => ({ ...spec, balancer: { ...spec.balancer, backup: undefined } }) as LabSpec);
  expect(check.outcome).toBe("skipped");
  expect(check.maxPoints).toBe(0);
  expect(maxScore).toBe(1);
}, 60_000);

it("passes: the BACKUP takes the VIP when keepalived stops on the MASTER, which takes it back once started", async () => {
  const { check } = await vrrp();
  expect(check.outcome, check.message.en).toBe("pass");
  const m = measured(check);
  expect(m.masterReleased).toBe(true);
  expect(m.outageMs).not.toBeNull();
  expect(check.message.en).toContain(`${m.failedRequests} failed requests`);
  expect(await lab!.vipHolder()).toBe("director1");
  expect(readdirSync(journalDir)).toEqual([]);
}, 240_000);

it("fails when the BACKUP's keepalived is down: the VIP goes dark, and the MASTER is restored", async () => {
  expect((await lab!.machineExec("director2", "service keepalived stop")).code).toBe(0);
  try {
    const { check } = await vrrp();
    expect(check.outcome, check.message.en).toBe("fail");
    expect(check.message.en).toContain("did not take it");
    expect(check.fix?.en).toContain("state BACKUP");
    expect(await lab!.vipHolder()).toBe("director1");
    expect(readdirSync(journalDir)).toEqual([]);
  } finally {
    await lab!.machineExec("director2", "service keepalived start");
  }
}, 240_000);
