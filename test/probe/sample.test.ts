import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdentifier, createProbeClient, sample, type ProbeTarget } from "../../src/probe/index.js";
import { closedPort, startWebServer, type WebServer } from "./servers.js";

const identify = createIdentifier({
  backends: [
    { name: "webserver1", identity: "1" },
    { name: "webserver2", identity: "2" },
  ],
});

const servers: WebServer[] = [];
let ws1: WebServer;
let target: ProbeTarget;

beforeAll(async () => {
  ws1 = await startWebServer("1");
  servers.push(ws1);
  target = { address: ws1.address, port: ws1.port, path: "/" };
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe("connection modes against a node web server", () => {
  it("new-connection opens one TCP connection per request, seen by the server", async () => {
    const before = ws1.connections();
    const result = await sample(target, { mode: "new-connection", maxRequests: 6, identify });
    expect(ws1.connections() - before).toBe(6);
    expect(result.connections).toBe(6);
    expect(result.records.map((r) => r.connectionId)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(result.records.every((r) => r.label === "webserver1" && r.backend === "webserver1")).toBe(true);
    const serverPorts = ws1.seen.slice(-6).map((s) => s.remotePort);
    expect(result.records.map((r) => r.localPort)).toEqual(serverPorts);
  });

  it("keep-alive carries every request on one connection", async () => {
    const before = ws1.connections();
    const result = await sample(target, { mode: "keep-alive", maxRequests: 6, identify });
    expect(ws1.connections() - before).toBe(1);
    expect(result.records.map((r) => r.connectionId)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(new Set(ws1.seen.slice(-6).map((s) => s.remotePort)).size).toBe(1);
  });

  it("keep-alive opens the next connection when the server closes one, with a new id", async () => {
    const closing = await startWebServer("1", { maxRequestsPerSocket: 3 });
    servers.push(closing);
    const result = await sample(
      { address: closing.address, port: closing.port, path: "/" },
      { mode: "keep-alive", maxRequests: 7, identify },
    );
    expect(result.records.every((r) => r.error === undefined)).toBe(true);
    expect(result.records.map((r) => r.connectionId)).toEqual([1, 1, 1, 2, 2, 2, 3]);
    expect(result.connections).toBe(3);
    expect(closing.connections()).toBe(3);
  });

  it("every record carries its latency, within the sample's own duration", async () => {
    for (const mode of ["new-connection", "keep-alive"] as const) {
      const result = await sample(target, { mode, maxRequests: 4, identify });
      for (const r of result.records) {
        expect(Number.isFinite(r.latencyMs), mode).toBe(true);
        expect(r.latencyMs).toBeGreaterThan(0);
        expect(r.latencyMs).toBeLessThanOrEqual(result.durationMs);
      }
    }
    // A refused connection is timed too: the time it took to be refused.
    const port = await closedPort();
    const refused = await sample({ address: "127.0.0.1", port, path: "/" }, { mode: "new-connection", maxRequests: 2, identify });
    for (const r of refused.records) {
      expect(r.error?.class).toBe("connect-refused");
      expect(r.latencyMs).toBeGreaterThanOrEqual(0);
      expect(r.latencyMs).toBeLessThanOrEqual(refused.durationMs);
    }
  });

  it("records are plain JSON", async () => {
    const result = await sample(target, { mode: "new-connection", maxRequests: 2, identify });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
});

describe("source address binding", () => {
  it("binds 127.0.0.2 and 127.0.0.3 and the server sees each", async () => {
    for (const localAddress of ["127.0.0.2", "127.0.0.3"]) {
      const result = await sample(target, { mode: "new-connection", maxRequests: 3, identify, localAddress });
      expect(result.records.every((r) => r.localAddress === localAddress && r.status === 200)).toBe(true);
      expect(ws1.seen.slice(-3).map((s) => s.remoteAddress)).toEqual([localAddress, localAddress, localAddress]);
    }
  });

  it("a client's own source address is used when the sample names none", async () => {
    const student = createProbeClient("client-b", { localAddress: "127.0.0.3" });
    const result = await sample(target, { mode: "keep-alive", maxRequests: 2, identify, client: student });
    expect(result.records.map((r) => r.localAddress)).toEqual(["127.0.0.3", "127.0.0.3"]);
    expect(ws1.seen.at(-1)?.remoteAddress).toBe("127.0.0.3");
  });

  it("an address this host does not have is a bind-failed record, not a crash", async () => {
    // TEST-NET-2 is never configured here: bind() fails locally and no packet is sent.
    for (const localAddress of ["198.51.100.254", "not-an-address"]) {
      const result = await sample(target, { mode: "new-connection", maxRequests: 5, identify, localAddress });
      expect(result.stoppedBy).toBe("errors");
      expect(result.records).toHaveLength(1);
      expect(result.records[0]?.error?.class).toBe("bind-failed");
      expect(result.records[0]?.label).toBe("error:bind-failed");
      expect(result.records[0]?.connectionId).toBeNull();
    }
  });
});

describe("errors are recorded, never retried", () => {
  it("a refused connection is connect-refused for every request, and the loop goes on", async () => {
    const port = await closedPort();
    const result = await sample({ address: "127.0.0.1", port, path: "/" }, { mode: "new-connection", maxRequests: 4, identify });
    expect(result.stoppedBy).toBe("max");
    expect(result.records.map((r) => r.label)).toEqual(Array(4).fill("error:connect-refused"));
    expect(result.records.every((r) => r.connectionId === null && r.backend === null)).toBe(true);
    expect(result.connections).toBe(0);
  });

  it("a server that resets every 3rd request gets exactly N requests: resets are errors, never retried", async () => {
    // Counted by the server: a retry, by undici or by the engine, would show as an extra request.
    let requests = 0;
    const resetter = await startWebServer("1", {
      address: "127.0.0.61",
      handler: (req, res) => {
        requests += 1;
        if (requests % 3 === 0) {
          req.socket.destroy();
          return;
        }
        res.end("<h1>Bienvenido a webserver1</h1>");
      },
    });
    servers.push(resetter);
    const vip = { address: resetter.address, port: resetter.port, path: "/" };
    for (const mode of ["new-connection", "keep-alive"] as const) {
      const before = requests;
      const n = 12;
      const result = await sample(vip, { mode, maxRequests: n, identify });
      expect(requests - before, mode).toBe(n);
      expect(result.records, mode).toHaveLength(n);
      expect(result.stoppedBy).toBe("max");
      const served = result.records.filter((r) => r.error === undefined);
      const errors = result.records.filter((r) => r.error !== undefined);
      expect(served.every((r) => r.status === 200 && r.backend === "webserver1"), mode).toBe(true);
      expect(errors.map((r) => r.error?.class), mode).toEqual(["reset", "reset", "reset", "reset"]);
      expect(errors.map((r) => r.label)).toEqual(Array(4).fill("error:reset"));
      // Which requests were reset: the server's 3rd, 6th, ... (this sample starts where the last ended).
      const resetSeqs = result.records.filter((r) => (before + r.seq) % 3 === 0).map((r) => r.seq);
      expect(errors.map((r) => r.seq), mode).toEqual(resetSeqs);
    }
  });

  it("stops after maxConsecutiveErrors errors in a row", async () => {
    const port = await closedPort();
    const result = await sample(
      { address: "127.0.0.1", port, path: "/" },
      { mode: "keep-alive", maxRequests: 50, maxConsecutiveErrors: 3, identify },
    );
    expect(result.stoppedBy).toBe("errors");
    expect(result.records).toHaveLength(3);
  });
});

describe("loop control", () => {
  it("holds the rate limit, from the engine's own records", async () => {
    const rate = 40;
    const result = await sample(target, { mode: "keep-alive", maxRequests: 9, ratePerSecond: rate, identify });
    expect(result.records).toHaveLength(9);
    expect(result.durationMs).toBeGreaterThanOrEqual((8 * 1000) / rate);
    for (let i = 1; i < result.records.length; i++) {
      const gap = (result.records[i]?.t ?? 0) - (result.records[i - 1]?.t ?? 0);
      // t is rounded to 0.01 ms.
      expect(gap).toBeGreaterThanOrEqual(1000 / rate - 0.02);
    }
  });

  it("shouldStop ends the sample as soon as it decides", async () => {
    const seen: number[] = [];
    const result = await sample(target, {
      mode: "keep-alive",
      maxRequests: 100,
      identify,
      shouldStop: (_record, records) => records.length === 5,
      onRecord: (record) => seen.push(record.seq),
    });
    expect(result.stoppedBy).toBe("shouldStop");
    expect(result.records).toHaveLength(5);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it("an abort signal stops the sample", async () => {
    const controller = new AbortController();
    const result = await sample(target, {
      mode: "new-connection",
      maxRequests: 100,
      ratePerSecond: 50,
      identify,
      signal: controller.signal,
      onRecord: (record) => {
        if (record.seq === 3) controller.abort();
      },
    });
    expect(result.stoppedBy).toBe("abort");
    expect(result.records).toHaveLength(3);
  });

  it("the deadline stops the sample", async () => {
    const result = await sample(target, { mode: "keep-alive", maxRequests: 1000, ratePerSecond: 20, deadlineMs: 300, identify });
    expect(result.stoppedBy).toBe("deadline");
    expect(result.records.length).toBeGreaterThan(0);
    expect(result.records.length).toBeLessThan(1000);
  });

  it("rejects options that make no sample, naming the option", async () => {
    await expect(sample(target, { mode: "keep-alive", maxRequests: 0 })).rejects.toThrow(/maxRequests/);
    await expect(sample(target, { mode: "keep-alive", maxRequests: 3, ratePerSecond: -1 })).rejects.toThrow(/ratePerSecond/);
    await expect(sample({ ...target, path: "index.html" }, { mode: "keep-alive", maxRequests: 3 })).rejects.toThrow(/target\.path/);
  });
});

describe("cookies and Host against a node web server", () => {
  it("stores every Set-Cookie and sends them back; cookieless sends none", async () => {
    const setter = await startWebServer("2", {
      handler: (req, res) => {
        res.setHeader("set-cookie", ["a=1; path=/", `b=${req.headers.cookie === undefined ? "first" : "again"}; path=/`]);
        res.end("Bienvenido a webserver2");
      },
    });
    servers.push(setter);
    const vip = { address: setter.address, port: setter.port, path: "/", host: "lab.example" };
    const browser = createProbeClient("jar");
    const withJar = await sample(vip, { mode: "keep-alive", maxRequests: 3, identify, client: browser });
    expect(withJar.records.map((r) => r.cookieSent)).toEqual([undefined, "a=1; b=first", "a=1; b=again"]);
    expect(setter.seen.slice(-3).map((s) => s.cookie)).toEqual([undefined, "a=1; b=first", "a=1; b=again"]);
    expect(setter.seen.at(-1)?.host).toBe("lab.example");
    expect(withJar.records[0]?.setCookie).toEqual(["a=1; path=/", "b=first; path=/"]);
    expect(await browser.getCookie(vip, "b")).toBe("again");

    const cookieless = await sample(vip, { mode: "keep-alive", maxRequests: 2, identify });
    expect(cookieless.records.every((r) => r.cookieSent === undefined)).toBe(true);
    expect(setter.seen.slice(-2).map((s) => s.cookie)).toEqual([undefined, undefined]);
  });
});
