/**
 * What `hagrade run` prints while it works, through the real command line: in a CI log (no TTY)
 * a line when each check starts and ends and a heartbeat during a long silent wait; on a terminal
 * that reports 0 columns (a pty nobody sized), progress lines of a usable width; counts with
 * their nouns in the right number.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../src/model/index.js";
import { loopbackSpecFields, startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";
import { CLI, hagrade } from "./hagrade.js";

const execFileP = promisify(execFile);
// eslint-disable-next-line no-control-regex -- terminal colours are stripped to read the text
const SGR = /\u001b\[[0-9;]*m/g;
const REWRITE = "\r\u001b[2K";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hagrade-progress-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("in a CI log (stdout is not a terminal)", () => {
  let silent: Server;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    // A VIP that accepts connections and never answers: a long wait with nothing to say.
    silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.185", r));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent?.close(r));
  });

  it("prints a line when each check starts and ends, and a heartbeat at least every 10 s of silence", async () => {
    const port = (silent.address() as { port: number }).port;
    const spec = join(dir, "silent.json");
    await writeFile(
      spec,
      JSON.stringify({
        lab: "silent",
        part: "proxy",
        lang: "en",
        vip: { address: "127.0.0.185", port },
        balancer: { internalAddress: "127.0.0.1" },
        backends: [1, 2].map((i) => ({ name: `webserver${i}`, address: `127.0.0.18${5 + i}`, port: 1 })),
        timeouts: { connect: 3000, request: 12_000 },
      }),
    );
    const r = await hagrade(["run", "--spec", spec, "--only", "net.vip-http", "--reporter", "console"], dir);
    const lines = r.stdout.split("\n");
    const start = lines.findIndex((l) => l === "START net.vip-http: The VIP answers HTTP");
    const end = lines.findIndex((l) => /^(FAIL|ERROR) net\.vip-http \(0\/1\)/.test(l));
    expect(start, r.stdout).toBeGreaterThan(0);
    expect(end, r.stdout).toBeGreaterThan(start);
    // 12 s without an answer, three times (the request is retried): a heartbeat every 10 s.
    const beats = lines.slice(start + 1, end).filter((l) => /^ {2}… net\.vip-http: running \(\d+ s\)$/.test(l));
    expect(beats.length, r.stdout).toBeGreaterThanOrEqual(2);
    // eslint-disable-next-line no-control-regex -- a CI log must hold no carriage return nor escape byte
    expect(r.stdout).not.toMatch(/[\r\u001b]/);
  }, 120_000);
});

describe("on a terminal that reports 0 columns", () => {
  let lab: LoopbackLab;
  beforeAll(async () => {
    lab = await startLoopbackLab(180);
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it("draws the progress line 80 columns wide instead of cutting it to 20", async () => {
    const spec = join(dir, "pty.json");
    await writeFile(spec, JSON.stringify({ lab: "pty", part: "proxy", lang: "en", ...loopbackSpecFields(lab.apache, [lab.ws1, lab.ws2]) }));
    // script(1) runs the CLI on a fresh pty, which reports 0 columns until someone sizes it.
    const command = [process.execPath, ...CLI, "run", "--spec", spec, "--only", "net.vip-http,proxy.round-robin", "--reporter", "console"]
      .map((a) => `'${a}'`)
      .join(" ");
    const { stdout } = await execFileP("script", ["-qec", command, "/dev/null"], { cwd: dir, env: { ...process.env, TERM: "xterm", NO_COLOR: "1" }, timeout: 120_000 });
    const progress = stdout.split(REWRITE).slice(1).map((p) => p.replace(SGR, "").split(/\r?\n/)[0]!).filter((p) => p.startsWith("  … "));
    expect(progress.length, stdout).toBeGreaterThan(0);
    expect(progress.some((p) => p.length > 20 && /proxy\.round-robin: sampling .* \d+\/\d+$/.test(p)), progress.join("\n")).toBe(true);
    for (const p of progress) expect(p.length).toBeLessThan(80);
  }, 120_000);
});

describe("counts", () => {
  it("say 1 error and 1 HTTP request sent, 2 errors and 2 HTTP requests sent", async () => {
    const result = (n: number): RunResult => ({
      schemaVersion: 1,
      tool: { name: "hagrade", version: "0.0.0" },
      lab: "plurals",
      part: "proxy",
      partSource: "spec",
      lang: "en",
      startedAt: new Date(0).toISOString(),
      durationMs: 1000,
      score: 0,
      maxScore: n,
      counts: { pass: 0, fail: 0, inconclusive: 0, error: n, skipped: 0 },
      traffic: { httpRequests: n, sshCommands: 0 },
      notes: [],
      checks: Array.from({ length: n }, (_, i) => ({
        id: `net.check-${i}`,
        part: "net" as const,
        title: { es: "x", en: "x" },
        outcome: "error" as const,
        points: 0,
        maxPoints: 1,
        message: { es: "x", en: "x" },
        evidence: [],
        startedAt: new Date(0).toISOString(),
        durationMs: 1,
      })),
    });
    for (const [n, en, es] of [
      [1, "1 error  (1.0 s, 1 HTTP request sent)", "1 error  (1.0 s, 1 petición HTTP enviada)"],
      [2, "2 errors  (1.0 s, 2 HTTP requests sent)", "2 errores  (1.0 s, 2 peticiones HTTP enviadas)"],
    ] as const) {
      const file = join(dir, `plurals-${n}.json`);
      await writeFile(file, JSON.stringify(result(n)));
      const [r, s] = await Promise.all([hagrade(["report", file, "--lang", "en"], dir), hagrade(["report", file, "--lang", "es"], dir)]);
      expect(r.stdout).toContain(`Score: 0/${n}  ${en}`);
      expect(s.stdout).toContain(`Puntuación: 0/${n}  ${es}`);
    }
  }, 120_000);
});
