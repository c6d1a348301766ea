/**
 * Never hang, bounded memory, at the level of a whole `hagrade run`: VIPs that accept and never
 * answer, send an endless chunked body, a body of gigabytes, or their headers a byte a second.
 * The grade must end on the spec's own bounds with a verdict that says what was seen, and the
 * grader's peak memory (its maxRSS, measured in the child) must stay bounded.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hagrade, limited, STACK_FRAME, type CliRun } from "./cli.js";

/** Far above what the grader needs (about 100 MB) and far below what one buffered body would take. */
const MAX_RSS_BYTES = 300 * 1024 * 1024;

let work: string;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "hagrade-hang-"));
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
});

interface Peer {
  address: string;
  port: number;
  /** Bytes the peer managed to send (the grader read them or they sit in socket buffers). */
  sent: () => number;
}

/** A TCP peer that handles each connection with `onRequest` once it has read the request head. */
async function peer(onRequest: (socket: net.Socket, count: (n: number) => void) => void): Promise<Peer> {
  let sent = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    let head = "";
    const onData = (d: Buffer) => {
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      onRequest(socket, (n) => (sent += n));
    };
    socket.on("data", onData);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((done) => server.close(() => done()));
  });
  return { address: "127.0.0.1", port: (server.address() as net.AddressInfo).port, sent: () => sent };
}

/** Writes `chunk` until the grader hangs up, at the pace the grader reads (back-pressure). */
function pump(socket: net.Socket, chunk: Buffer, count: (n: number) => void, limit = Number.POSITIVE_INFINITY): void {
  let written = 0;
  const more = (): void => {
    while (!socket.destroyed && socket.writable && written < limit) {
      written += chunk.length;
      count(chunk.length);
      if (!socket.write(chunk)) {
        socket.once("drain", more);
        return;
      }
    }
  };
  more();
}

const PAGE = "<html><body><h1>Bienvenido a webserver1</h1>";
const timers = new Set<NodeJS.Timeout>();
cleanups.push(async () => timers.forEach((t) => clearInterval(t)));

const PEERS: { name: string; make: () => Promise<Peer>; says: RegExp }[] = [
  {
    name: "accepts TCP and never answers",
    make: () => peer(() => undefined),
    says: /headers-timeout|no complete response headers/,
  },
  {
    name: "sends headers, then a chunked body that never ends",
    make: () =>
      peer((socket, count) => {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n`);
        const filler = `<p>${"x".repeat(8000)}</p>`;
        const chunk = Buffer.from(`${Buffer.byteLength(PAGE + filler).toString(16)}\r\n${PAGE}${filler}\r\n`);
        pump(socket, chunk, count);
      }),
    says: /body|too large|never ends|truncated/i,
  },
  {
    name: "declares a body of 4 GiB and streams it",
    make: () =>
      peer((socket, count) => {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${4 * 1024 ** 3}\r\n\r\n${PAGE}`);
        pump(socket, Buffer.alloc(64 * 1024, "x"), count, 4 * 1024 ** 3);
      }),
    says: /body|too large|truncated/i,
  },
  {
    name: "sends its headers one byte a second (slowloris)",
    make: () =>
      peer((socket, count) => {
        const head = Buffer.from("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: " + "s".repeat(200) + "\r\n\r\n");
        let i = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || i >= head.length) {
            clearInterval(timer);
            timers.delete(timer);
            return;
          }
          socket.write(head.subarray(i, ++i));
          count(1);
        }, 1000);
        timers.add(timer);
      }),
    says: /headers-timeout|no complete response headers/,
  },
];

interface Result {
  checks: { id: string; outcome: string; message: { en: string }; evidence: unknown[] }[];
}

async function gradeVip(p: Peer, name: string): Promise<{ run: CliRun; result: Result | undefined }> {
  const dir = await mkdtemp(join(work, "run-"));
  const spec = {
    lab: `hang-${name.split(" ")[0]}`,
    part: "proxy",
    vip: { address: p.address, port: p.port },
    balancer: { internalAddress: "127.0.0.1" },
    backends: [
      { name: "webserver1", address: "127.0.0.2", loadfactor: 3 },
      { name: "webserver2", address: "127.0.0.3", loadfactor: 1 },
    ],
    timeouts: { connect: 1000, request: 2000 },
    sampling: { maxRequests: 200, ratePerSecond: 100 },
  };
  await writeFile(join(dir, "lab.json"), JSON.stringify(spec));
  const run = await hagrade(
    ["run", "--spec", join(dir, "lab.json"), "--lang", "en", "--reporter", "console,json", "--out", join(dir, "reports"), "--journal-dir", join(dir, "journal")],
    { boundMs: 240_000 },
  );
  const json = await readFile(join(dir, "reports", "result.json"), "utf8").catch(() => undefined);
  return { run, result: json === undefined ? undefined : (JSON.parse(json) as Result) };
}

describe("a whole grade against a VIP that never finishes", () => {
  const runs = new Map<string, { run: CliRun; result: Result | undefined; peer: Peer }>();
  beforeAll(async () => {
    const peers = await Promise.all(PEERS.map((p) => p.make()));
    const graded = await limited(2, PEERS.map((p, i) => () => gradeVip(peers[i]!, p.name)));
    PEERS.forEach((p, i) => runs.set(p.name, { ...graded[i]!, peer: peers[i]! }));
  }, 600_000);

  for (const p of PEERS) {
    it(`${p.name}: ends by itself, net.vip-http not passed, says what it saw, RSS bounded`, () => {
      const { run, result, peer: server } = runs.get(p.name)!;
      const stdout = run.stdout.toString("utf8");
      const stderr = run.stderr.toString("utf8");
      expect(run.killed, `${p.name}: still running when the test's bound killed it\n${stdout}`).toBe(false);
      expect(STACK_FRAME.test(stderr) || /internal error/.test(stderr), stderr).toBe(false);
      expect([1, 3], stdout + stderr).toContain(run.code);
      expect(result).toBeDefined();
      const vip = result!.checks.find((c) => c.id === "net.vip-http")!;
      expect(vip.outcome, vip.message.en).not.toBe("pass");
      expect(["fail", "inconclusive", "error"]).toContain(vip.outcome);
      expect(vip.message.en).toMatch(p.says);
      // Nothing passes on a VIP that never gave one whole answer.
      expect(result!.checks.filter((c) => c.outcome === "pass").map((c) => c.id)).toEqual([]);
      expect(run.maxRssBytes, "the child reported its peak memory").toBeDefined();
      expect(run.maxRssBytes!).toBeLessThan(MAX_RSS_BYTES);
      // For the endless bodies: the grader read a bounded part and hung up.
      expect(server.sent()).toBeLessThan(4 * 1024 ** 3);
    });
  }
});
