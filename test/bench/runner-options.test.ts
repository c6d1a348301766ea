/**
 * What the bench asks of the runner: `sequential` runs checks strictly one after another (the
 * baseline of the concurrent schedule), and `trafficOf` records what each check sent.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { runChecks } from "../../src/runner/runner.js";
import type { CheckDefinition } from "../../src/runner/types.js";

interface Ctx {
  sent: { httpRequests: number; sshCommands: number };
}

/** SSH-like checks (no VIP lock) that log when they start and end. */
function checks(log: string[]): CheckDefinition<Ctx>[] {
  return ["a", "b", "c"].map((id, i) => ({
    id,
    part: "net" as const,
    title: { es: id, en: id },
    points: 1,
    needs: ["ssh" as const],
    async run(ctx: Ctx) {
      log.push(`${id}:start`);
      ctx.sent.sshCommands += i + 1;
      await sleep(20);
      log.push(`${id}:end`);
      return { outcome: "pass" as const, message: { es: "ok", en: "ok" }, evidence: [] };
    },
  }));
}

describe("runChecks options the bench uses", () => {
  it("sequential: each check ends before the next starts", async () => {
    const log: string[] = [];
    await runChecks(checks(log), () => ({ sent: { httpRequests: 0, sshCommands: 0 } }), { sequential: true });
    expect(log).toEqual(["a:start", "a:end", "b:start", "b:end", "c:start", "c:end"]);
  });

  it("by default, checks without the VIP lock overlap", async () => {
    const log: string[] = [];
    await runChecks(checks(log), () => ({ sent: { httpRequests: 0, sshCommands: 0 } }));
    expect(log.slice(0, 3)).toEqual(["a:start", "b:start", "c:start"]);
  });

  it("trafficOf: each result carries what its own check sent", async () => {
    const results = await runChecks(checks([]), () => ({ sent: { httpRequests: 0, sshCommands: 0 } }), {
      trafficOf: (_check, ctx) => ({ ...(ctx as Ctx).sent }),
    });
    expect(results.map((r) => [r.id, r.traffic?.sshCommands])).toEqual([
      ["a", 1],
      ["b", 2],
      ["c", 3],
    ]);
  });
});
