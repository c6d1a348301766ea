import { afterAll, describe, expect, it } from "vitest";
import { createIdentifier, createProbeClient, fetchOnce, type ProbeTarget } from "../../src/probe/index.js";
import { closedPort, startRawServer, startWebServer } from "./servers.js";

const identify = createIdentifier({ backends: [{ name: "webserver1", identity: "1" }] });
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function web(...args: Parameters<typeof startWebServer>): Promise<ProbeTarget & { seen: { cookie?: string }[]; connections: () => number }> {
  const server = await startWebServer(...args);
  cleanups.push(server.close);
  return { address: server.address, port: server.port, path: "/", seen: server.seen, connections: server.connections };
}

describe("fetchOnce", () => {
  it("returns status, the kept headers, the page and its timing", async () => {
    const vip = await web("1");
    const result = await fetchOnce(vip, { identify });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result).toMatchObject({ status: 200, attempts: 1, bodyTruncated: false, backend: "webserver1", label: "webserver1" });
    expect(result.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(result.headers).not.toHaveProperty("date");
    expect(result.body).toContain("Bienvenido a webserver1");
    expect(result.latencyMs).toBeGreaterThanOrEqual(result.headersMs);
    expect(result.localAddress).toBe("127.0.0.1");
  });

  it("retries a refused connection a bounded number of times, then reports it", async () => {
    const port = await closedPort();
    const result = await fetchOnce({ address: "127.0.0.1", port, path: "/" }, { retries: 2, retryDelayMs: 10 });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.class).toBe("connect-refused");
    expect(result.attempts).toBe(3);
  });

  it("a transient reset is retried and the second attempt answers", async () => {
    let first = true;
    const vip = await web("1", {
      handler: (req, res) => {
        if (first) {
          first = false;
          req.socket.destroy();
          return;
        }
        res.end("Bienvenido a webserver1");
      },
    });
    const result = await fetchOnce(vip, { retries: 3, retryDelayMs: 10, identify });
    expect(result).toMatchObject({ ok: true, status: 200, attempts: 2, label: "webserver1" });
    expect(vip.connections()).toBe(2);
  });

  it("does not retry what another attempt cannot fix", async () => {
    const garbage = await startRawServer((socket) => {
      socket.on("error", () => undefined);
      socket.once("data", () => socket.end("not http\r\n\r\n"));
    });
    cleanups.push(garbage.close);
    const result = await fetchOnce({ address: garbage.address, port: garbage.port, path: "/" }, { retries: 3, retryDelayMs: 10 });
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { class: "protocol" } });
    expect(garbage.connections()).toBe(1);

    const bind = await fetchOnce({ address: garbage.address, port: garbage.port, path: "/" }, { localAddress: "198.51.100.254", retries: 3 });
    expect(bind).toMatchObject({ ok: false, attempts: 1, error: { class: "bind-failed" } });
  });

  it("retries the statuses it is told to, and only those", async () => {
    let calls = 0;
    const vip = await web("1", {
      handler: (_req, res) => {
        calls += 1;
        res.statusCode = calls === 1 ? 503 : 200;
        res.end(calls === 1 ? "Service Unavailable" : "Bienvenido a webserver1");
      },
    });
    expect(await fetchOnce(vip, { retryDelayMs: 10 })).toMatchObject({ ok: true, status: 503, attempts: 1 });
    calls = 0;
    expect(await fetchOnce(vip, { retryDelayMs: 10, retryOnStatus: [502, 503] })).toMatchObject({ ok: true, status: 200, attempts: 2 });
  });

  it("keeps only maxBodyBytes of a large page", async () => {
    const vip = await web("1", { handler: (_req, res) => res.end("Bienvenido a webserver1 ".repeat(100_000)) });
    const result = await fetchOnce(vip, { maxBodyBytes: 1000, identify });
    expect(result).toMatchObject({ ok: true, status: 200, bodyTruncated: true, label: "webserver1" });
    if (result.ok) expect(result.body).toHaveLength(1000);
  });

  it("a browser's cookies go out and come back in", async () => {
    const vip = await web("1", {
      handler: (req, res) => {
        res.setHeader("set-cookie", "ROUTEID=.wsrv1; path=/");
        res.end(`cookie was ${req.headers.cookie ?? "none"}`);
      },
    });
    const browser = createProbeClient("fetcher");
    await browser.forgeCookie(vip, "ROUTEID", ".wsrv2");
    const result = await fetchOnce(vip, { client: browser });
    expect(result).toMatchObject({ ok: true, cookieSent: "ROUTEID=.wsrv2", setCookie: ["ROUTEID=.wsrv1; path=/"] });
    expect(await browser.getCookie(vip, "ROUTEID")).toBe(".wsrv1");
  });

  it("an aborted fetch reports it instead of throwing", async () => {
    const silent = await startRawServer((socket) => socket.on("error", () => undefined));
    cleanups.push(silent.close);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await fetchOnce(
      { address: silent.address, port: silent.port, path: "/" },
      { signal: controller.signal, timeouts: { headersMs: 10_000 }, retries: 3 },
    );
    expect(result).toMatchObject({ ok: false, attempts: 1, error: { class: "other" } });
  });
});
