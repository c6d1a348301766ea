/**
 * The engine end to end on loopback: a real Apache 2.4 balancer (mod_proxy_balancer,
 * byrequests, ROUTEID stickiness) over two real HTTP servers, graded by the real runner.
 * No SSH here: the namespace lab tests cover the SSH checks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LabSpec } from "../../src/config/schema.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { RunResult } from "../../src/runner/types.js";
import { gradeOptions } from "../helpers/grade.js";
import { loopbackSpec, startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";
import { closedPort, startApacheBalancer, startWebServer, type ApacheInstance, type WebServer } from "../probe/servers.js";

const HTTP_CHECKS = ["net.vip-http", "net.two-backends", "proxy.round-robin", "proxy.loadfactor", "proxy.routeid-cookie", "proxy.sticky"];

const grade = (spec: LabSpec, only = HTTP_CHECKS): Promise<RunResult> =>
  gradeLab(spec, gradeOptions({ journalDir: "/tmp", only }));

const outcomes = (r: RunResult) => Object.fromEntries(r.checks.map((c) => [c.id, c.outcome]));

describe("grading a real Apache balancer on loopback", () => {
  let lab: LoopbackLab;
  let ws1: WebServer;
  let ws2: WebServer;
  let apache: ApacheInstance;

  beforeAll(async () => {
    lab = await startLoopbackLab(30);
    ({ ws1, ws2, apache } = lab);
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it("passes every HTTP check of part 2 on a correct balancer", async () => {
    const result = await grade(await loopbackSpec(apache, [ws1, ws2]));
    expect(outcomes(result), JSON.stringify(result.checks.map((c) => [c.id, c.outcome, c.message.en]), null, 1)).toEqual(Object.fromEntries(HTTP_CHECKS.map((id) => [id, "pass"])));
    expect(result.score).toBe(result.maxScore);
    expect(result.traffic.httpRequests).toBeGreaterThan(10);
    const two = result.checks.find((c) => c.id === "net.two-backends")!;
    expect(two.message.en).toMatch(/webserver1: \d+.*webserver2: \d+/);
  });

  it("fails the ratio when the spec expects 3:1 and the balancer does 1:1", async () => {
    const spec = await loopbackSpec(apache, [ws1, ws2]);
    spec.backends[0]!.loadfactor = 3;
    const result = await grade(spec, ["net.vip-http", "proxy.loadfactor"]);
    const lf = result.checks.find((c) => c.id === "proxy.loadfactor")!;
    expect(lf.outcome).toBe("fail");
    expect(lf.message.en).toMatch(/3:1/);
  });

  it("fails net.two-backends and round robin when one web server is down", async () => {
    const down = await startWebServer("2", { address: "127.0.0.34" });
    const up = await startWebServer("1", { address: "127.0.0.33" });
    const oneUp = await startApacheBalancer([up, down], "127.0.0.35");
    await down.close();
    try {
      const result = await grade(await loopbackSpec(oneUp, [up, down]), ["net.vip-http", "net.two-backends", "proxy.round-robin"]);
      expect(outcomes(result)).toEqual({ "net.vip-http": "pass", "net.two-backends": "fail", "proxy.round-robin": "fail" });
      const two = result.checks.find((c) => c.id === "net.two-backends")!;
      expect(two.message.en).toContain("webserver2");
      expect(two.fix?.es).toBeTruthy();
    } finally {
      await oneUp.stop();
      await up.close();
    }
  });

  it("a VIP where nothing listens fails net.vip-http and skips what depends on it, without a crash", async () => {
    const port = await closedPort("127.0.0.36");
    const result = await grade(await loopbackSpec({ address: "127.0.0.36", port }, [ws1, ws2]));
    const o = outcomes(result);
    expect(o["net.vip-http"]).toBe("fail");
    for (const id of HTTP_CHECKS.slice(1)) expect(o[id]).toBe("skipped");
    expect(result.score).toBe(0);
    // Each dependent says why it was not graded: the check it needs, and how that one ended.
    for (const c of result.checks.filter((c) => c.id !== "net.vip-http")) {
      expect(c.message.en, c.id).toBe("Not graded: depends on net.vip-http (failed).");
      expect(c.message.es, c.id).toContain("depende de net.vip-http");
      expect(c.evidence, c.id).toEqual([{ kind: "dependency", dependsOn: "net.vip-http", outcome: "fail" }]);
      expect(c.points).toBe(0);
    }
  });

  it("--part auto detects the Apache reverse proxy from the traffic and says so", async () => {
    const spec = await loopbackSpec(apache, [ws1, ws2], { part: "auto" });
    const fromSpec = await grade(spec, ["net.vip-http"]);
    expect(fromSpec.part).toBe("proxy");
    expect(fromSpec.partSource).toBe("detected");
    expect(fromSpec.notes.map((n) => n.en)).toContain("Detected the Apache reverse proxy: one keep-alive connection reaches several servers (per-request balancing).");
    expect(fromSpec.notes.every((n) => n.es.length > 0)).toBe(true);
    // The detection's own requests count in the run's traffic.
    const vipOnly = fromSpec.checks.find((c) => c.id === "net.vip-http")!;
    expect(fromSpec.traffic.httpRequests).toBeGreaterThan(vipOnly.traffic?.httpRequests ?? 0);

    // The same from the command line's --part auto over a spec that names a part.
    const fromCli = await gradeLab(
      await loopbackSpec(apache, [ws1, ws2], { part: "lvs" }),
      gradeOptions({ journalDir: "/tmp", part: "auto", only: ["net.vip-http"] }),
    );
    expect(fromCli.part).toBe("proxy");
    expect(fromCli.partSource).toBe("detected");
  });

  it("--part auto on a single server says it could not tell, and grades part 2", async () => {
    const spec = await loopbackSpec(ws1, [ws1, ws2], { part: "auto" });
    const result = await grade(spec, ["net.vip-http"]);
    expect(result.part).toBe("proxy");
    expect(result.partSource).toBe("detected");
    expect(result.notes.map((n) => n.en)).toEqual([
      "Could not tell LVS from Apache by the traffic (only one server visible).",
      "Grading part 2 (proxy). Use --part lvs or --part proxy to choose.",
    ]);
  });

  it("the spec's rubric sets a check's points, in the check and in the total", async () => {
    const spec = await loopbackSpec(apache, [ws1, ws2], { rubric: { points: { "net.vip-http": 3 } } });
    const result = await grade(spec, ["net.vip-http", "net.two-backends"]);
    const vip = result.checks.find((c) => c.id === "net.vip-http")!;
    const two = result.checks.find((c) => c.id === "net.two-backends")!;
    expect(vip).toMatchObject({ outcome: "pass", maxPoints: 3, points: 3 });
    // A check the rubric does not name keeps its own points.
    expect(two).toMatchObject({ outcome: "pass", maxPoints: 1, points: 1 });
    expect(result.maxScore).toBe(4);
    expect(result.score).toBe(4);

    // On a VIP that does not answer, the check's 3 points are lost, not its default 1.
    const port = await closedPort("127.0.0.37");
    const down = await grade(await loopbackSpec({ address: "127.0.0.37", port }, [ws1, ws2], { rubric: { points: { "net.vip-http": 3 } } }), ["net.vip-http"]);
    expect(down.checks[0]).toMatchObject({ id: "net.vip-http", outcome: "fail", maxPoints: 3, points: 0 });
    expect(down.maxScore).toBe(3);
  });
});
