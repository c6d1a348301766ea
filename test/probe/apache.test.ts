import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIdentifier, createProbeClient, fetchOnce, sample, type ProbeTarget, type RequestRecord } from "../../src/probe/index.js";
import { startApacheBalancer, startWebServer, type ApacheInstance, type WebServer } from "./servers.js";

const identify = createIdentifier({
  backends: [
    { name: "webserver1", identity: "1" },
    { name: "webserver2", identity: "2" },
  ],
});

let ws1: WebServer;
let ws2: WebServer;
let apache: ApacheInstance;
let vip: ProbeTarget;

beforeAll(async () => {
  ws1 = await startWebServer("1");
  ws2 = await startWebServer("2");
  apache = await startApacheBalancer([ws1, ws2]);
  vip = { address: apache.address, port: apache.port, path: "/" };
});

afterAll(async () => {
  await apache?.stop();
  await ws1?.close();
  await ws2?.close();
});

const labels = (records: RequestRecord[]): string[] => records.map((r) => r.label);

function alternates(records: RequestRecord[]): boolean {
  return records.every((r, i) => i === 0 || r.backend !== records[i - 1]?.backend);
}

describe("sampling through a real Apache byrequests balancer", () => {
  it("keep-alive: one connection, and byrequests still alternates per request", async () => {
    const result = await sample(vip, { mode: "keep-alive", maxRequests: 20, ratePerSecond: 200, identify });
    expect(result.stoppedBy).toBe("max");
    expect(result.records).toHaveLength(20);
    expect(result.records.every((r) => r.status === 200 && r.error === undefined)).toBe(true);
    expect(new Set(result.records.map((r) => r.connectionId))).toEqual(new Set([1]));
    expect(new Set(result.records.map((r) => r.localPort)).size).toBe(1);
    expect(result.connections).toBe(1);
    expect(alternates(result.records)).toBe(true);
    expect(new Set(labels(result.records))).toEqual(new Set(["webserver1", "webserver2"]));
    // Cookieless: Apache re-cookies on every route change, and the browser-less sample sends none back.
    expect(result.records.every((r) => r.cookieSent === undefined)).toBe(true);
    expect(result.records.every((r) => r.setCookie.length === 1 && /^ROUTEID=\.wsrv[12]; path=\/$/.test(r.setCookie[0] ?? ""))).toBe(true);
  });

  it("keep-alive: when Apache closes the connection (MaxKeepAliveRequests 100) the next one gets a new id", async () => {
    const result = await sample(vip, { mode: "keep-alive", maxRequests: 104, ratePerSecond: 1000, identify });
    expect(result.records.every((r) => r.status === 200)).toBe(true);
    const onFirst = result.records.filter((r) => r.connectionId === 1).length;
    // Apache closes after MaxKeepAliveRequests keep-alive grants (101 requests with the first).
    expect(onFirst).toBeGreaterThanOrEqual(100);
    expect(result.records.map((r) => r.connectionId)).toEqual([...Array(onFirst).fill(1), ...Array(104 - onFirst).fill(2)]);
    expect(result.connections).toBe(2);
    expect(alternates(result.records)).toBe(true);
  });

  it("new-connection: a new TCP connection (and source port) per request", async () => {
    const result = await sample(vip, { mode: "new-connection", maxRequests: 12, ratePerSecond: 200, identify });
    expect(result.records).toHaveLength(12);
    expect(result.connections).toBe(12);
    expect(new Set(result.records.map((r) => r.connectionId)).size).toBe(12);
    expect(new Set(result.records.map((r) => r.localPort)).size).toBe(12);
    expect(alternates(result.records)).toBe(true);
  });

  it("a browser with a cookie jar sticks to one backend after the first ROUTEID", async () => {
    const browser = createProbeClient("browser-a");
    const result = await sample(vip, { mode: "new-connection", maxRequests: 12, ratePerSecond: 200, identify, client: browser });
    const [first, ...rest] = result.records;
    expect(first?.cookieSent).toBeUndefined();
    expect(first?.setCookie[0]).toMatch(/^ROUTEID=\.wsrv[12]; path=\/$/);
    const route = first?.setCookie[0]?.match(/ROUTEID=(\.wsrv[12])/)?.[1];
    expect(rest.every((r) => r.backend === first?.backend)).toBe(true);
    expect(rest.every((r) => r.cookieSent === `ROUTEID=${route}`)).toBe(true);
    // Apache only sends the cookie when the route changes.
    expect(rest.every((r) => r.setCookie.length === 0)).toBe(true);
    expect(await browser.getCookie(vip, "ROUTEID")).toBe(route);
    expect(browser.setCookiesSeen.map((s) => s.value)).toEqual([first?.setCookie[0]]);
  });

  it("a forged ROUTEID moves the browser to the named route", async () => {
    const browser = createProbeClient("forger");
    for (const [route, backend] of [
      [".wsrv2", "webserver2"],
      [".wsrv1", "webserver1"],
    ] as const) {
      expect(await browser.forgeCookie(vip, "ROUTEID", route)).toBe(true);
      const result = await sample(vip, { mode: "keep-alive", maxRequests: 8, ratePerSecond: 200, identify, client: browser });
      expect(result.records.map((r) => r.backend)).toEqual(Array(8).fill(backend));
      expect(result.records.every((r) => r.cookieSent === `ROUTEID=${route}`)).toBe(true);
    }
  });

  it("fetchOnce sees the VIP answer 200 with Apache's cookie", async () => {
    const result = await fetchOnce(vip, { identify });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.status).toBe(200);
    expect(result.attempts).toBe(1);
    expect(result.body).toMatch(/Bienvenido a webserver[12]/);
    expect(result.label).toMatch(/^webserver[12]$/);
    expect(result.setCookie[0]).toMatch(/^ROUTEID=\.wsrv[12]; path=\/$/);
  });
});
