import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchOnce } from "../../src/probe/index.js";
import { scopeViolation } from "../../src/probe/scope.js";
import { startWebServer, type WebServer } from "../probe/servers.js";

describe("HAGRADE_ALLOWED_NETWORKS fence", () => {
  it("allows addresses inside the listed networks and nothing else", () => {
    const env = { HAGRADE_ALLOWED_NETWORKS: "127.0.0.0/8, 10.220.0.0/16" };
    expect(scopeViolation("127.0.0.5", env)).toBeNull();
    expect(scopeViolation("10.220.3.10", env)).toBeNull();
    expect(scopeViolation("10.221.3.10", env)).toMatch(/outside/);
    expect(scopeViolation("192.168.0.10", env)).toMatch(/outside/);
    expect(scopeViolation("::1", env)).toMatch(/outside/);
    expect(scopeViolation("192.168.0.10", {})).toBeNull();
  });

  describe("in the probe's connector", () => {
    let server: WebServer;
    const saved = process.env.HAGRADE_ALLOWED_NETWORKS;
    beforeAll(async () => {
      server = await startWebServer("1", { address: "127.0.0.52" });
    });
    afterAll(async () => {
      process.env.HAGRADE_ALLOWED_NETWORKS = saved;
      await server.close();
    });

    it("refuses to connect outside the fence before any packet is sent", async () => {
      process.env.HAGRADE_ALLOWED_NETWORKS = "127.0.0.51/32";
      const r = await fetchOnce({ address: server.address, port: server.port, path: "/" }, { retries: 0 });
      expect(r.ok).toBe(false);
      expect(server.connections()).toBe(0);
      process.env.HAGRADE_ALLOWED_NETWORKS = "127.0.0.52/32";
      const ok = await fetchOnce({ address: server.address, port: server.port, path: "/" }, { retries: 0 });
      expect(ok.ok).toBe(true);
      expect(server.connections()).toBe(1);
    });
  });
});
