/**
 * lvs.persistence-long on the real LVS lab (keepalived + IPVS in the qemu VM), with the seed's
 * persistence scaled down to 30 s (variant persistence-30) so the wait fits a test: an idle
 * client stays bound for most of the timeout, and its template disappears only after the
 * timeout plus the kernel's extra lifetime, both measured. Without --long it is not run and
 * leaves the maximum; without persistence (persistence-0) it fails without waiting.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";
import type { RunResult } from "../../src/runner/types.js";
import { gradeSpecFile } from "../helpers/grade.js";

let lab: VmLab | undefined;
let journalDir: string;

beforeAll(async () => {
  journalDir = mkdtempSync(join(tmpdir(), "hagrade-lvs-long-"));
  lab = await startVmLab({ variant: "persistence-30" });
}, 300_000);

afterAll(async () => {
  await lab?.stop();
  rmSync(journalDir, { recursive: true, force: true });
}, 60_000);

function grade(long: boolean): Promise<RunResult> {
  return gradeSpecFile(lab!.specPath, {
    part: "lvs",
    long,
    journalDir,
    // lvs.virtual-server opens SSH for the run as in a full grading.
    only: ["net.vip-http", "lvs.virtual-server", "lvs.persistence-long"],
  });
}

const check = (r: RunResult) => r.checks.find((c) => c.id === "lvs.persistence-long")!;

it("is not run without --long and leaves the maximum score", async () => {
  const result = await grade(false);
  const long = check(result);
  expect(long.outcome).toBe("skipped");
  expect(long.maxPoints).toBe(0);
  expect(long.message.en).toContain("--long");
  expect(result.maxScore).toBe(result.checks.reduce((sum, c) => sum + (c.id === "lvs.persistence-long" ? 0 : c.maxPoints), 0));
}, 120_000);

interface LongEvidence {
  expectedSeconds: number;
  clients: { address: string; server: string }[];
  holdProbe: { idleSeconds: number; server: string; template: { present: boolean } };
  idleClient: { address: string; goneAfterSeconds: number; lastSeenSeconds: number; extraSeconds: number };
}

it("passes on 30 s of persistence: bound while idle, the template gone after the timeout plus the kernel's extra lifetime", async () => {
  const long = check(await grade(true));
  expect(long.outcome, long.message.en).toBe("pass");
  const e = long.evidence.find((x) => x.kind === "persistence-long") as unknown as LongEvidence;
  const [held, idle] = e.clients;
  // The first client connected again after most of the timeout and reached the same server.
  expect(e.holdProbe.idleSeconds).toBeGreaterThanOrEqual(24);
  expect(e.holdProbe.server).toBe(held!.server);
  expect(e.holdProbe.template.present).toBe(true);
  // The second one, never touched again, lost its template only after the timeout.
  expect(e.idleClient.address).toBe(idle!.address);
  expect(e.idleClient.lastSeenSeconds).toBeGreaterThanOrEqual(30);
  expect(e.idleClient.goneAfterSeconds).toBeGreaterThan(e.idleClient.lastSeenSeconds);
  expect(long.message.en).toContain(`${e.idleClient.goneAfterSeconds} s`);
  expect(long.message.es).toContain(`${e.idleClient.extraSeconds} s`);
}, 420_000);

it("fails without waiting when the balancer keeps no persistence where 1200 s is expected", async () => {
  await lab!.setVariant("persistence-0");
  const long = check(await grade(true));
  expect(long.outcome, long.message.en).toBe("fail");
  expect(long.message.en).toContain("no persistent");
  expect(long.fix?.en).toContain("persistence_timeout 1200");
  expect(long.fix?.es).toContain("persistence_timeout 1200");
}, 180_000);
