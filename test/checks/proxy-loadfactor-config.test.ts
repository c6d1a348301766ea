/**
 * proxy.loadfactor compares the traffic with the loadfactors Apache's site files give (read over
 * SSH) and says when they disagree. On one correct lab: the configuration agrees; the file
 * changed to 1:1 without a reload (the running Apache still splits 3:1) passes on the traffic
 * and says the configuration disagrees; after the reload the check fails and names the
 * configuration's 1:1. proxy.modules is graded too: a grade opens SSH only for checks that need it.
 * The parsing alone: proxy-loadfactor-note.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import type { CheckResult } from "../../src/runner/types.js";
import { gradeSpecFile } from "../helpers/grade.js";

describe("on the reference lab", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ variant: "correct" });
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  const loadfactor = async (): Promise<CheckResult> => {
    const run = await gradeSpecFile(lab.specPath, { part: "proxy", journalDir: `${lab.stateDir}/journal`, only: ["net.vip-http", "proxy.modules", "proxy.loadfactor"] });
    const check = run.checks.find((c) => c.id === "proxy.loadfactor");
    if (!check) throw new Error("proxy.loadfactor did not run");
    return check;
  };

  it("agrees, then disagrees before the reload, then fails on the reloaded 1:1", async () => {
    const agreed = await loadfactor();
    expect(agreed.outcome, agreed.message.en).toBe("pass");
    expect(agreed.message.en).toMatch(/The configuration agrees: \/etc\/apache2\/sites-enabled\/\S+:\d+ gives loadfactor 3:1\./);

    const edit = await lab.hostExec("balancer", "sed -i --follow-symlinks 's/loadfactor=3/loadfactor=1/' /etc/apache2/sites-enabled/*");
    expect(edit.code).toBe(0);
    const stale = await loadfactor();
    expect(stale.outcome, stale.message.en).toBe("pass");
    expect(stale.message.en).toContain("The traffic disagrees with the configuration");
    expect(stale.message.en).toContain("gives loadfactor 1:1");

    const reload = await lab.hostExec("balancer", "apache2ctl graceful && sleep 1");
    expect(reload.code, reload.stderr).toBe(0);
    const reloaded = await loadfactor();
    expect(reloaded.outcome, reloaded.message.en).toBe("fail");
    expect(reloaded.message.en).toContain("The configuration gives loadfactor 1:1");
  }, 120_000);
});
