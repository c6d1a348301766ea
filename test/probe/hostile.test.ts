import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { createIdentifier, sample, type ProbeTarget } from "../../src/probe/index.js";
import { startRawServer, startWebServer, type RawServer, type WebServer } from "./servers.js";

const identify = createIdentifier({ backends: [{ name: "webserver1", identity: "1" }] });
const cleanups: (() => Promise<void> | void)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function raw(onSocket: (socket: net.Socket) => void): Promise<RawServer> {
  const server = await startRawServer(onSocket);
  cleanups.push(server.close);
  return server;
}

const targetOf = (s: { address: string; port: number }): ProbeTarget => ({ address: s.address, port: s.port, path: "/" });

/** Waits (bounded) until the server holds no connection: the probe really let go of it. */
async function released(server: RawServer): Promise<boolean> {
  for (let i = 0; i < 100 && server.openSockets() > 0; i++) await delay(20);
  return server.openSockets() === 0;
}

/** Writes the chunk again and again, respecting back-pressure, until the peer goes away. */
function writeForever(socket: net.Socket, chunk: Buffer, onWritten: (bytes: number) => void): void {
  const pump = (): void => {
    while (!socket.destroyed && socket.writable) {
      onWritten(chunk.length);
      if (!socket.write(chunk)) {
        socket.once("drain", pump);
        return;
      }
    }
  };
  socket.on("error", () => undefined);
  pump();
}

const CHUNKED_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n";

describe("hostile or broken servers", () => {
  it("a server that accepts and never answers gives headers-timeout within the bound", async () => {
    const silent = await raw((socket) => socket.on("error", () => undefined));
    const result = await sample(targetOf(silent), {
      mode: "keep-alive",
      maxRequests: 2,
      deadlineMs: 20_000,
      timeouts: { headersMs: 300 },
      identify,
    });
    // Both requests ended on their own bound, long before the sample's deadline.
    expect(result.stoppedBy).toBe("max");
    expect(result.records.map((r) => r.label)).toEqual(["error:headers-timeout", "error:headers-timeout"]);
    expect(result.records.every((r) => r.connectionId !== null && /300 ms/.test(r.error?.message ?? ""))).toBe(true);
    expect(result.durationMs).toBeLessThan(20_000);
  });

  it("headers trickled byte by byte still end at the headers bound", async () => {
    const trickle = await raw((socket) => {
      socket.on("error", () => undefined);
      socket.once("data", () => {
        const timer = setInterval(() => socket.write("X"), 20);
        socket.write("HTTP/1.1 200 OK\r\nX-Slow: ");
        socket.once("close", () => clearInterval(timer));
      });
    });
    const result = await sample(targetOf(trickle), {
      mode: "new-connection",
      maxRequests: 1,
      deadlineMs: 20_000,
      timeouts: { connectMs: 200, headersMs: 300 },
      identify,
    });
    expect(result.stoppedBy).toBe("max");
    expect(result.records[0]?.error?.class).toBe("headers-timeout");
    expect(await released(trickle)).toBe(true);
  });

  it("a never-ending chunked body stops at maxBodyBytes", async () => {
    let written = 0;
    const endless = await raw((socket) => {
      socket.once("data", () => {
        socket.write(CHUNKED_HEAD);
        const data = "Bienvenido a webserver1 ".repeat(680).slice(0, 16_000);
        writeForever(socket, Buffer.from(`${(16_000).toString(16)}\r\n${data}\r\n`), (n) => (written += n));
      });
    });
    const result = await sample(targetOf(endless), {
      mode: "keep-alive",
      maxRequests: 1,
      maxBodyBytes: 256 * 1024,
      timeouts: { bodyMs: 10_000 },
      identify,
    });
    expect(result.records[0]?.error?.class).toBe("body-too-large");
    expect(result.records[0]?.status).toBe(200);
    expect(result.records[0]?.backend).toBeNull();
    expect(await released(endless)).toBe(true);
    // The server could only push what the cap plus socket buffers took in.
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it("a slowly trickling endless body ends at the total body deadline, not the idle one", async () => {
    const slow = await raw((socket) => {
      socket.on("error", () => undefined);
      socket.once("data", () => {
        socket.write(CHUNKED_HEAD);
        const timer = setInterval(() => socket.write("1\r\nx\r\n"), 20);
        socket.once("close", () => clearInterval(timer));
      });
    });
    const result = await sample(targetOf(slow), {
      mode: "keep-alive",
      maxRequests: 1,
      deadlineMs: 20_000,
      timeouts: { bodyMs: 400 },
      identify,
    });
    expect(result.stoppedBy).toBe("max");
    expect(result.records[0]?.error?.class).toBe("body-timeout");
    expect(result.records[0]?.error?.message).toMatch(/400 ms/);
    expect(await released(slow)).toBe(true);
  });

  it("a huge declared body is body-too-large and the connection is dropped", async () => {
    let responseClosedEarly = false;
    const huge: WebServer = await startWebServer("1", {
      handler: (_req, res) => {
        res.writeHead(200, { "content-length": String(1024 * 1024 * 1024) });
        const block = Buffer.alloc(64 * 1024, 0x61);
        const pump = (): void => {
          while (!res.destroyed && res.write(block));
          if (!res.destroyed) res.once("drain", pump);
        };
        res.once("close", () => (responseClosedEarly = !res.writableFinished));
        pump();
      },
    });
    cleanups.push(huge.close);
    const result = await sample(targetOf(huge), { mode: "new-connection", maxRequests: 2, maxBodyBytes: 128 * 1024, identify });
    expect(result.records.map((r) => r.label)).toEqual(["error:body-too-large", "error:body-too-large"]);
    for (let i = 0; i < 100 && !responseClosedEarly; i++) await delay(20);
    expect(responseClosedEarly).toBe(true);
  });

  it("a body exactly at the cap is accepted and identified", async () => {
    const page = "Bienvenido a webserver1";
    const exact = await startWebServer("1", { handler: (_req, res) => res.end(page) });
    cleanups.push(exact.close);
    const result = await sample(targetOf(exact), { mode: "keep-alive", maxRequests: 1, maxBodyBytes: page.length, identify });
    expect(result.records[0]?.label).toBe("webserver1");
  });

  it("garbage instead of HTTP is a protocol error", async () => {
    const garbage = await raw((socket) => {
      socket.on("error", () => undefined);
      socket.once("data", () => socket.end("SSH-2.0-OpenSSH_9.2p1\r\n\r\n"));
    });
    const result = await sample(targetOf(garbage), { mode: "new-connection", maxRequests: 1, identify });
    expect(result.records[0]?.error?.class).toBe("protocol");
  });

  it("a connection reset or closed before the answer is reset", async () => {
    const resetter = await raw((socket) => {
      socket.on("error", () => undefined);
      socket.once("data", () => socket.resetAndDestroy());
    });
    const closer = await raw((socket) => {
      socket.on("error", () => undefined);
      socket.once("data", () => socket.destroy());
    });
    for (const server of [resetter, closer]) {
      const result = await sample(targetOf(server), { mode: "new-connection", maxRequests: 2, identify });
      expect(result.records.map((r) => r.label)).toEqual(["error:reset", "error:reset"]);
      expect(result.records.every((r) => r.connectionId !== null)).toBe(true);
    }
  });

  it("a listener whose accept queue is full gives connect-timeout", async () => {
    // A real listening socket that never accepts: once its queue is full the kernel drops SYNs.
    const listener: ChildProcess = spawn(
      "python3",
      ["-c", 'import socket,sys\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'],
      { stdio: ["pipe", "pipe", "ignore"] },
    );
    cleanups.push(() => {
      listener.stdin?.end();
      listener.kill();
    });
    const port = await new Promise<number>((resolve, reject) => {
      listener.stdout?.once("data", (d: Buffer) => resolve(Number(d.toString().trim())));
      listener.once("error", reject);
    });
    const fillers: net.Socket[] = [];
    cleanups.push(() => fillers.forEach((s) => s.destroy()));
    for (let i = 0; i < 8; i++) {
      const socket = net.connect({ host: "127.0.0.1", port });
      socket.on("error", () => undefined);
      fillers.push(socket);
      const connected = await Promise.race([
        new Promise<boolean>((resolve) => socket.once("connect", () => resolve(true))),
        delay(300).then(() => false),
      ]);
      if (!connected) break;
    }
    const result = await sample(
      { address: "127.0.0.1", port, path: "/" },
      { mode: "new-connection", maxRequests: 1, timeouts: { connectMs: 300 }, deadlineMs: 20_000, identify },
    );
    expect(result.stoppedBy).toBe("max");
    expect(result.records[0]?.error?.class).toBe("connect-timeout");
    expect(result.records[0]?.connectionId).toBeNull();
  });
});
