/**
 * `npm run test:chaos`, lvs.http-get: 20 kills at random moments while a page is made wrong (the VM
 * lab). The loop and what it proves: test/chaos/kill-loop.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";
import { KILLS, journalFolder, killLoop, killSummary, servedNames, untilTrue, vmPages } from "./kill-loop.js";

describe("SIGKILL during lvs.http-get (the page made wrong)", () => {
  let lab: VmLab;
  beforeAll(async () => {
    lab = await startVmLab({ variant: "http-get-correct" });
  }, 300_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it(`${KILLS} kills at seeded random moments, each followed by hagrade restore, leave both pages byte for byte`, async () => {
    const journalDir = journalFolder("hagrade-chaos-httpget-");
    const records = await killLoop(
      {
        specPath: lab.specPath,
        part: "lvs",
        check: "lvs.http-get",
        state: () => vmPages(lab),
        bothServe: () => untilTrue(async () => (await servedNames(lab.spec.vip.address, 8)).size === 2, 30_000),
      },
      journalDir,
    );
    const seen = killSummary(records);
    console.log(`lvs.http-get kills: ${seen}`);
    expect(records.some((r) => r.phase === "changed"), seen).toBe(true);
  }, 1_800_000);
});
