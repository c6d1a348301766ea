/**
 * `npm run test:chaos`, proxy.failover: 20 kills at random moments, and the SSH link cut in the
 * middle. The loop and what it proves: test/chaos/kill-loop.ts.
 */
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { BIN, KILLS, ROOT, journalFolder, killLoop, killSummary, run, servedNames, untilTrue } from "./kill-loop.js";

describe("SIGKILL during proxy.failover", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ variant: "correct" });
    // Apache keeps a failed member out for `retry` (60 s by default): the restore is under test
    // here, not Apache's back-off, so members are retried after 1 s.
    const r = await lab.hostExec("balancer", "sed -i -E 's/(BalancerMember .*route=wsrv[0-9]+)$/\\1 retry=1/' /etc/apache2/sites-enabled/*.conf && apache2ctl graceful");
    if (r.code !== 0) throw new Error(r.stderr);
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it(`${KILLS} kills at seeded random moments, each followed by hagrade restore, leave the lab as it was`, async () => {
    const journalDir = journalFolder("hagrade-chaos-proxy-");
    const page = async () => (await lab.hostExec("ws1", "curl -s -m 3 http://127.0.0.1/ || true")).stdout;
    const records = await killLoop(
      {
        specPath: lab.specPath,
        part: "proxy",
        check: "proxy.failover",
        state: page,
        bothServe: () => untilTrue(async () => (await servedNames(lab.spec.vip.address, 8)).size === 2, 30_000),
      },
      journalDir,
    );
    const seen = killSummary(records);
    console.log(`proxy.failover kills: ${seen}`);
    // The moments must have hit the interesting phases, not only before or after the change.
    expect(records.some((r) => r.phase === "changed"), seen).toBe(true);
    expect(records.some((r) => r.phase !== "changed"), seen).toBe(true);
  }, 1_800_000);
});

describe("SSH link cut in the middle of proxy.failover", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ variant: "correct" });
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it("ends as the grader's error with what is left to do, and hagrade restore completes once the link is back", async () => {
    const journalDir = journalFolder("hagrade-chaos-cut-");
    const out = join(journalDir, "out");
    const page = async () => (await lab.hostExec("ws1", "curl -s -m 3 http://127.0.0.1/ || true")).stdout;
    const before = await page();
    const child = spawn(
      process.execPath,
      [BIN, "run", "--spec", lab.specPath, "--part", "proxy", "--disruptive", "--only", "net.vip-http,proxy.failover", "--journal-dir", journalDir, "--reporter", "json", "--out", out, "--lang", "en"],
      { cwd: ROOT, stdio: "ignore" },
    );
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    // Cut the grader's link to the balancer (SSH to both servers goes through it) once webserver1 is down.
    expect(await untilTrue(async () => !(await page()).includes("Bienvenido"), 60_000)).toBe(true);
    const cut = await lab.hostExec("client", "ip link set balancer down");
    expect(cut.code, cut.stderr).toBe(0);
    let code: number | null;
    try {
      code = await exited;
    } finally {
      await lab.hostExec("client", "ip link set balancer up");
    }
    expect(code).toBe(3);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as { checks: { id: string; outcome: string; message: { en: string } }[] };
    const failover = result.checks.find((c) => c.id === "proxy.failover")!;
    expect(failover.outcome).toBe("error");
    expect(failover.message.en).toMatch(/Could not start webserver1's web server again! Left to do: /);
    expect(readdirSync(journalDir).filter((f) => f.endsWith(".json"))).toHaveLength(1);
    const restore = await run(process.execPath, [BIN, "restore", "--dir", journalDir, "--lang", "en"], { cwd: ROOT, timeout: 120_000 });
    expect(restore.stdout).toMatch(/webserver1/);
    expect(await page()).toBe(before);
    expect(readdirSync(journalDir).filter((f) => f.endsWith(".json"))).toEqual([]);
  }, 600_000);
});
