/**
 * The waits of a failover reach the console's live line: "waiting for the failover" while traffic
 * moves to the survivor, "waiting for webserver1 to rejoin (t s of max s)" after it is started
 * again, in both languages. A real Apache balancer over two real HTTP servers on loopback; the
 * failover is the guided one (--interactive, no SSH): the test is the person who stops and starts
 * webserver1 when asked.
 */
import http from "node:http";
import type net from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpecText } from "../../src/config/index.js";
import { consoleReporter } from "../../src/report/console.js";
import type { Reporter } from "../../src/report/reporter.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { Prompter } from "../../src/runner/prompter.js";
import type { Text } from "../../src/runner/types.js";
import { gradeOptions } from "../helpers/grade.js";
import { startApacheBalancer, startWebServer, type ApacheInstance, type WebServer } from "../probe/servers.js";

const ADDRESS = "127.0.0.51";
/** Short: Apache keeps a failed member out for its `retry` (60 s), so webserver1 is not seen back in it. */
const REJOIN_MS = 2500;

/** webserver1 again after the person starts it: the same address and port, the same page. */
async function restartWebServer1(port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<html><body><h1>Bienvenido a webserver1</h1></body></html>\n");
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, ADDRESS, resolve);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("failover progress", () => {
  let ws1: WebServer;
  let ws2: WebServer;
  let apache: ApacheInstance;
  let restarted: { close(): Promise<void> } | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hagrade-failover-progress-"));
    ws1 = await startWebServer("1", { address: ADDRESS });
    ws2 = await startWebServer("2", { address: "127.0.0.52" });
    apache = await startApacheBalancer([ws1, ws2], "127.0.0.50");
  });
  afterAll(async () => {
    await apache?.stop();
    await ws1?.close();
    await ws2?.close();
    await restarted?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("says it waits for the failover, then for webserver1 to rejoin, on the console's live line", async () => {
    const loaded = await parseSpecText(
      JSON.stringify({
        lab: "loopback-failover",
        part: "proxy",
        vip: { address: apache.address, port: apache.port },
        balancer: { internalAddress: "127.0.0.1" },
        backends: [ws1, ws2].map((b, i) => ({ name: `webserver${i + 1}`, address: b.address, port: b.port, loadfactor: 1 })),
        timeouts: { failover: 10_000, rejoin: REJOIN_MS },
        sampling: { ratePerSecond: 100 },
      }),
      { baseDir: process.cwd(), sourceName: "loopback.json" },
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const asked: string[] = [];
    const person: Prompter = {
      canAsk: true,
      say: (m) => void asked.push(m.en),
      async waitForEnter(message) {
        asked.push(message.en);
        if (message.en.startsWith("Stop the web server on webserver1")) await ws1.close();
        else if (message.en.startsWith("Start the web server on webserver1")) restarted = await restartWebServer1(ws1.port);
        return "confirmed";
      },
      close: () => {},
    };
    const progress: Text[] = [];
    const recorder: Reporter = { onCheckProgress: (id, p) => void (id === "proxy.failover" && progress.push(p)) };
    let tty = "";
    const live = consoleReporter("es", { isTTY: true, columns: 200, write: (s: string) => (tty += s) }, { TERM: "xterm", NO_COLOR: "1" });
    const result = await gradeLab(loaded.spec, gradeOptions({
      lang: "es",
      disruptive: true,
      // The wait for the balancer's return is measured only with --long.
      long: true,
      interactive: true,
      prompter: person,
      journalDir: dir,
      only: ["net.vip-http", "proxy.failover"],
      reporters: [recorder, live],
    }));
    const failover = result.checks.find((c) => c.id === "proxy.failover")!;
    expect(asked.filter((a) => a.includes("press Enter")).length, JSON.stringify(failover.message)).toBe(2);
    expect(failover.outcome, failover.message.en).not.toBe("skipped");

    expect(progress[0]).toEqual({ es: "esperando que webserver1 sirva por la VIP antes de pararlo", en: "waiting for webserver1 to serve through the VIP before stopping it" });
    const failoverWaits = progress.filter((p) => p.en.startsWith("waiting for the failover"));
    expect(failoverWaits.length).toBeGreaterThan(0);
    for (const p of failoverWaits) {
      expect(p.en).toMatch(/^waiting for the failover \(\d+ s of 10 s at most\)$/);
      expect(p.es).toMatch(/^esperando la conmutación \(\d+ s de 10 s como máximo\)$/);
    }
    const rejoinWaits = progress.filter((p) => p.en.startsWith("waiting for webserver1 to rejoin"));
    expect(rejoinWaits.length, JSON.stringify(progress)).toBeGreaterThan(0);
    for (const p of rejoinWaits) {
      expect(p.en).toMatch(/^waiting for webserver1 to rejoin \(\d+ s of 3 s at most\)$/);
      expect(p.es).toMatch(/^esperando que webserver1 vuelva al servicio \(\d+ s de 3 s como máximo\)$/);
    }
    // The failover waits come before the rejoin waits, and each line differs from the one before.
    expect(progress.indexOf(failoverWaits.at(-1)!)).toBeLessThan(progress.indexOf(rejoinWaits[0]!));
    for (let i = 1; i < progress.length; i++) expect(progress[i]).not.toEqual(progress[i - 1]);
    // The console rewrote its live line with them, in Spanish.
    expect(tty).toContain("\r\u001b[2K  … proxy.failover: esperando la conmutación (");
    expect(tty).toContain("\r\u001b[2K  … proxy.failover: esperando que webserver1 vuelva al servicio (");
  }, 60_000);
});
