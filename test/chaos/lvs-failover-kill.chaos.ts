/**
 * `npm run test:chaos`, lvs.failover: 20 kills at random moments (the VM lab). The loop and what it
 * proves: test/chaos/kill-loop.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";
import { KILLS, journalFolder, killLoop, killSummary, servedNames, untilTrue } from "./kill-loop.js";

describe("SIGKILL during lvs.failover", () => {
  let lab: VmLab;
  beforeAll(async () => {
    lab = await startVmLab({ variant: "rr" });
  }, 300_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it(`${KILLS} kills at seeded random moments, each followed by hagrade restore, leave the lab as it was`, async () => {
    const journalDir = journalFolder("hagrade-chaos-lvs-");
    const page = async () => (await lab.webserverExec("webserver1", "curl -s -m 3 http://127.0.0.1/ || true")).stdout;
    const records = await killLoop(
      {
        specPath: lab.specPath,
        part: "lvs",
        check: "lvs.failover",
        state: page,
        bothServe: () => untilTrue(async () => (await servedNames(lab.spec.vip.address, 8)).size === 2, 30_000),
      },
      journalDir,
    );
    const seen = killSummary(records);
    console.log(`lvs.failover kills: ${seen}`);
    expect(records.some((r) => r.phase === "changed"), seen).toBe(true);
  }, 1_800_000);
});
