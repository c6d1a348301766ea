/** tcpReach on loopback: a listening port connects, a closed one refuses, the fence stops the rest unsent. */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reachAnswered, tcpReach } from "../../src/probe/index.js";
import { closedPort } from "./servers.js";

const ADDRESS = "127.0.0.67";
let server: net.Server;
let port: number;
let accepted = 0;

beforeAll(async () => {
  server = net.createServer((socket) => {
    accepted++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, ADDRESS, resolve));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("tcpReach", () => {
  it("connects to a listening port and sends nothing on it", async () => {
    const r = await tcpReach(ADDRESS, port, 2000);
    expect(r).toMatchObject({ address: ADDRESS, port, state: "connected" });
    expect(reachAnswered(r)).toBe(true);
  });

  it("is refused by a closed port: the host answered", async () => {
    const r = await tcpReach(ADDRESS, await closedPort(ADDRESS), 2000);
    expect(r).toMatchObject({ state: "refused", code: "ECONNREFUSED" });
    expect(reachAnswered(r)).toBe(true);
  });

  it("makes no connection outside HAGRADE_ALLOWED_NETWORKS", async () => {
    const saved = process.env.HAGRADE_ALLOWED_NETWORKS;
    process.env.HAGRADE_ALLOWED_NETWORKS = "127.0.0.66/32";
    const before = accepted;
    try {
      const r = await tcpReach(ADDRESS, port, 2000);
      expect(r).toMatchObject({ state: "failed", code: "EHAGRADESCOPE" });
      expect(reachAnswered(r)).toBe(false);
    } finally {
      process.env.HAGRADE_ALLOWED_NETWORKS = saved;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(accepted).toBe(before);
  });

  it("stops at once when its signal is aborted", async () => {
    const r = await tcpReach(ADDRESS, port, 2000, AbortSignal.abort());
    expect(r.state).toBe("failed");
  });
});
