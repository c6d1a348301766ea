/**
 * `npm run test:chaos`, lvs.vrrp-failover: 20 kills at random moments while keepalived is stopped on
 * the MASTER (the VM lab, two directors). The loop and what it proves: test/chaos/kill-loop.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";
import { KILLS, journalFolder, killLoop, killSummary, servedNames, untilTrue } from "./kill-loop.js";

describe("SIGKILL during lvs.vrrp-failover (keepalived stopped on the MASTER)", () => {
  let lab: VmLab;
  beforeAll(async () => {
    lab = await startVmLab({ variant: "rr", directors: 2 });
  }, 300_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it(`${KILLS} kills at seeded random moments, each followed by hagrade restore, leave the MASTER holding the VIP`, async () => {
    const journalDir = journalFolder("hagrade-chaos-vrrp-");
    const state = async () => {
      const running = (await lab.machineExec("director1", "pgrep -x keepalived >/dev/null && echo running || echo stopped")).stdout.trim();
      return `keepalived ${running} on director1; VIP on ${(await lab.vipHolder()) ?? "none"}`;
    };
    expect(await state()).toBe("keepalived running on director1; VIP on director1");
    const records = await killLoop(
      {
        specPath: lab.specPath,
        part: "lvs",
        check: "lvs.vrrp-failover",
        state,
        bothServe: () => untilTrue(async () => (await servedNames(lab.spec.vip.address, 8)).size === 2, 30_000),
      },
      journalDir,
    );
    const seen = killSummary(records);
    console.log(`lvs.vrrp-failover kills: ${seen}`);
    expect(records.some((r) => r.phase === "changed"), seen).toBe(true);
  }, 1_800_000);
});
