/**
 * The engine end to end on loopback: a real Apache 2.4 balancer (mod_proxy_balancer,
 * byrequests, ROUTEID stickiness) over two real HTTP servers, graded by the real runner.
 * No SSH here: the namespace lab tests cover the SSH checks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpecText } from "../../src/config/index.js";
import type { LabSpec } from "../../src/config/schema.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { RunResult } from "../../src/runner/types.js";
import { closedPort, startApacheBalancer, startWebServer, type ApacheInstance, type WebServer } from "../probe/servers.js";

const HTTP_CHECKS = ["net.vip-http", "net.two-backends", "proxy.round-robin", "proxy.loadfactor", "proxy.routeid-cookie", "proxy.sticky"];

async function specFor(vip: { address: string; port: number }, backends: WebServer[]): Promise<LabSpec> {
  const text = JSON.stringify({
    lab: "loopback",
    part: "proxy",
    vip: { address: vip.address, port: vip.port },
    balancer: { internalAddress: "127.0.0.1" },
    backends: backends.map((b, i) => ({ name: `webserver${i + 1}`, address: b.address, port: b.port, loadfactor: 1 })),
    sampling: { maxRequests: 400, ratePerSecond: 500 },
  });
  const loaded = await parseSpecText(text, { baseDir: process.cwd(), sourceName: "loopback.json" });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.spec;
}

const grade = (spec: LabSpec, only = HTTP_CHECKS): Promise<RunResult> =>
  gradeLab(spec, { lang: "en", disruptive: false, long: false, interactive: false, acceptNewHostKeys: false, journalDir: "/tmp", only });

const outcomes = (r: RunResult) => Object.fromEntries(r.checks.map((c) => [c.id, c.outcome]));

describe("grading a real Apache balancer on loopback", () => {
  let ws1: WebServer;
  let ws2: WebServer;
  let apache: ApacheInstance;

  beforeAll(async () => {
    ws1 = await startWebServer("1", { address: "127.0.0.31" });
    ws2 = await startWebServer("2", { address: "127.0.0.32" });
    apache = await startApacheBalancer([ws1, ws2], "127.0.0.30");
  });
  afterAll(async () => {
    await apache?.stop();
    await ws1?.close();
    await ws2?.close();
  });

  it("passes every HTTP check of part 2 on a correct balancer", async () => {
    const result = await grade(await specFor(apache, [ws1, ws2]));
    expect(outcomes(result), JSON.stringify(result.checks.map((c) => [c.id, c.outcome, c.message.en]), null, 1)).toEqual(Object.fromEntries(HTTP_CHECKS.map((id) => [id, "pass"])));
    expect(result.score).toBe(result.maxScore);
    expect(result.traffic.httpRequests).toBeGreaterThan(10);
    const two = result.checks.find((c) => c.id === "net.two-backends")!;
    expect(two.message.en).toMatch(/webserver1: \d+.*webserver2: \d+/);
  });

  it("fails the ratio when the spec expects 3:1 and the balancer does 1:1", async () => {
    const spec = await specFor(apache, [ws1, ws2]);
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
      const result = await grade(await specFor(oneUp, [up, down]), ["net.vip-http", "net.two-backends", "proxy.round-robin"]);
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
    const result = await grade(await specFor({ address: "127.0.0.36", port }, [ws1, ws2]));
    const o = outcomes(result);
    expect(o["net.vip-http"]).toBe("fail");
    for (const id of HTTP_CHECKS.slice(1)) expect(o[id]).toBe("skipped");
    expect(result.score).toBe(0);
  });
});
