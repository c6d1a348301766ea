/**
 * `npm run test:chaos`: the grader is killed with SIGKILL at 20 seeded random moments of each
 * disruptive check, on the real labs; after each kill `hagrade restore` must complete the journal
 * and the lab must be exactly as before (the web servers' pages, byte for byte; the MASTER
 * director holding the VIP; both servers through the VIP). The moments cover the whole check: before the journal is written, between the
 * journal and the stop, during the outage, during the restore and after it.
 */
import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { startVmLab, type VmLab } from "../../fixtures/vm/index.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const BIN = join(ROOT, "dist/src/bin.js");
const KILLS = Number(process.env.HAGRADE_CHAOS_KILLS ?? 20);
const SEED = Number(process.env.HAGRADE_CHAOS_SEED ?? 20261125);

/** A small seeded generator (mulberry32): the same seed kills at the same moments. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Target {
  specPath: string;
  part: "proxy" | "lvs";
  check: string;
  /**
   * What the disruptive check changes, read from the lab itself (the pages the web servers serve
   * locally, or which director holds the VIP): after each restore it must be exactly as before.
   */
  state(): Promise<string>;
  /** Both servers answer through the VIP again (bounded wait). */
  bothServe(): Promise<boolean>;
}

interface KillRecord {
  delayMs: number;
  /** What the killed run had done: "nothing changed or all restored", "journaled, not changed", "changed". */
  phase: string;
}

function grade(target: Target, journalDir: string) {
  const child = spawn(
    process.execPath,
    [BIN, "run", "--spec", target.specPath, "--part", target.part, "--disruptive", "--only", `net.vip-http,${target.check}`, "--journal-dir", journalDir, "--reporter", "console", "--lang", "en"],
    { cwd: ROOT, stdio: "ignore", env: { ...process.env, NO_COLOR: "1" } },
  );
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  return { child, exited };
}

const journals = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : []);

/**
 * One run left alone, watched from outside: when its journal appears (just before the change),
 * when the web server is down and up again, and when the journal is gone (the change undone and
 * verified). Half of the kill moments are drawn from the whole window, a little before the journal
 * to a little after the restore; the other half from the outage itself, so every phase is hit.
 */
async function calibrate(target: Target, journalDir: string, before: string): Promise<{ fromMs: number; toMs: number; downMs: number; upMs: number }> {
  const started = Date.now();
  const { exited } = grade(target, journalDir);
  let appeared: number | undefined;
  let gone: number | undefined;
  let down: number | undefined;
  let up: number | undefined;
  let done = false;
  void exited.then(() => (done = true));
  while (!done && gone === undefined) {
    const now = Date.now() - started;
    const present = journals(journalDir).length > 0;
    if (present && appeared === undefined) appeared = now;
    if (!present && appeared !== undefined) gone = now;
    if (appeared !== undefined && up === undefined) {
      const changed = (await target.state()) !== before;
      if (changed && down === undefined) down = Date.now() - started;
      if (!changed && down !== undefined) up = Date.now() - started;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await exited;
  // The run may end between two looks (a look at the page through a slow VM takes a moment).
  if (appeared !== undefined && gone === undefined && journals(journalDir).length === 0) gone = Date.now() - started;
  if (appeared === undefined || gone === undefined || down === undefined) {
    throw new Error(`calibration: the journal was ${appeared === undefined ? "never written" : gone === undefined ? "never completed" : "written but the lab never changed"}`);
  }
  return { fromMs: Math.max(100, Math.round(appeared * 0.6)), toMs: gone + 1000, downMs: down, upMs: up ?? gone };
}

async function killLoop(target: Target, journalDir: string): Promise<KillRecord[]> {
  const next = random(SEED + target.check.length);
  const records: KillRecord[] = [];
  const before = await target.state();
  const window = await calibrate(target, journalDir, before);
  for (let k = 0; k < KILLS; k++) {
    // Even kills: a moment of the whole window, from the clock. Odd kills: a moment of the outage
    // itself, counted from when the change is seen (a slow VM shifts the phases run to run).
    const { child, exited } = grade(target, journalDir);
    const started = Date.now();
    let delayMs: number;
    if (k % 2 === 0) {
      delayMs = Math.round(window.fromMs + next() * (window.toMs - window.fromMs));
      const timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
      await exited;
      clearTimeout(timer);
    } else {
      let ended = false;
      void exited.then(() => (ended = true));
      const bound = Date.now() + 2 * window.toMs;
      while (!ended && Date.now() < bound && (await target.state()) === before) await new Promise((r) => setTimeout(r, 50));
      // The outage as measured from outside is longer than it is (each look takes a moment): its first part.
      await new Promise((r) => setTimeout(r, Math.round(next() * 0.4 * (window.upMs - window.downMs))));
      delayMs = Date.now() - started;
      child.kill("SIGKILL");
      await exited;
    }
    const pending = journals(journalDir);
    const changedAtKill = (await target.state()) !== before;
    const phase = pending.length === 0 ? "nothing changed or all restored" : changedAtKill ? "changed" : "journaled, not changed";
    records.push({ delayMs, phase });
    const restore = await run(process.execPath, [BIN, "restore", "--dir", journalDir, "--lang", "en"], { cwd: ROOT, timeout: 120_000 }).catch(
      (e: { code?: number; stdout?: string; stderr?: string }) => e,
    );
    expect((restore as { code?: number }).code ?? 0, `kill ${k} at ${delayMs} ms (${phase}): ${JSON.stringify(restore)}`).toBe(0);
    expect(await target.state(), `kill ${k} at ${delayMs} ms (${phase})`).toBe(before);
    expect(readdirSync(journalDir).filter((f) => f.endsWith(".json")), `kill ${k}`).toEqual([]);
  }
  expect(await target.bothServe()).toBe(true);
  return records;
}

async function untilTrue(probe: () => Promise<boolean>, boundMs: number): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return probe();
}

async function servedNames(vip: string, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    try {
      const res = await fetch(`http://${vip}/`, { signal: AbortSignal.timeout(3000), headers: { connection: "close" } });
      const m = /Bienvenido a (webserver\d)/.exec(await res.text());
      if (m) seen.add(m[1]!);
    } catch {
      // A refused or slow request during recovery: keep polling.
    }
  }
  return seen;
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("SIGKILL during proxy.failover", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ variant: "correct" });
    // Apache keeps a failed member out for `retry` (60 s by default): the restore is under test
    // here, not Apache's back-off, so members are retried after 1 s.
    const r = await lab.hostExec("balancer", "sed -i -E 's/(BalancerMember .*route=wsrv[0-9]+)$/\\1 retry=1/' /etc/apache2/sites-enabled/*.conf && apache2ctl graceful");
    if (r.code !== 0) throw new Error(r.stderr);
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it(`${KILLS} kills at seeded random moments, each followed by hagrade restore, leave the lab as it was`, async () => {
    const journalDir = mkdtempSync(join(tmpdir(), "hagrade-chaos-proxy-"));
    dirs.push(journalDir);
    const page = async () => (await lab.hostExec("ws1", "curl -s -m 3 http://127.0.0.1/ || true")).stdout;
    const records = await killLoop(
      {
        specPath: lab.specPath,
        part: "proxy",
        check: "proxy.failover",
        state: page,
        bothServe: () => untilTrue(async () => (await servedNames(lab.spec.vip.address, 8)).size === 2, 30_000),
      },
      journalDir,
    );
    const seen = records.map((r) => `${r.delayMs} ms ${r.phase}`).join("; ");
    console.log(`proxy.failover kills: ${seen}`);
    // The moments must have hit the interesting phases, not only before or after the change.
    expect(records.some((r) => r.phase === "changed"), seen).toBe(true);
    expect(records.some((r) => r.phase !== "changed"), seen).toBe(true);
  }, 1_800_000);
});

describe("SSH link cut in the middle of proxy.failover", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await startLab({ variant: "correct" });
  }, 180_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it("ends as the grader's error with what is left to do, and hagrade restore completes once the link is back", async () => {
    const journalDir = mkdtempSync(join(tmpdir(), "hagrade-chaos-cut-"));
    dirs.push(journalDir);
    const out = join(journalDir, "out");
    const page = async () => (await lab.hostExec("ws1", "curl -s -m 3 http://127.0.0.1/ || true")).stdout;
    const before = await page();
    const child = spawn(
      process.execPath,
      [BIN, "run", "--spec", lab.specPath, "--part", "proxy", "--disruptive", "--only", "net.vip-http,proxy.failover", "--journal-dir", journalDir, "--reporter", "json", "--out", out, "--lang", "en"],
      { cwd: ROOT, stdio: "ignore" },
    );
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    // Cut the grader's link to the balancer (SSH to both servers goes through it) once webserver1 is down.
    expect(await untilTrue(async () => !(await page()).includes("Bienvenido"), 60_000)).toBe(true);
    const cut = await lab.hostExec("client", "ip link set balancer down");
    expect(cut.code, cut.stderr).toBe(0);
    let code: number | null;
    try {
      code = await exited;
    } finally {
      await lab.hostExec("client", "ip link set balancer up");
    }
    expect(code).toBe(3);
    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as { checks: { id: string; outcome: string; message: { en: string } }[] };
    const failover = result.checks.find((c) => c.id === "proxy.failover")!;
    expect(failover.outcome).toBe("error");
    expect(failover.message.en).toMatch(/Could not start webserver1's web server again! Left to do: /);
    expect(readdirSync(journalDir).filter((f) => f.endsWith(".json"))).toHaveLength(1);
    const restore = await run(process.execPath, [BIN, "restore", "--dir", journalDir, "--lang", "en"], { cwd: ROOT, timeout: 120_000 });
    expect(restore.stdout).toMatch(/webserver1/);
    expect(await page()).toBe(before);
    expect(readdirSync(journalDir).filter((f) => f.endsWith(".json"))).toEqual([]);
  }, 600_000);
});

describe("SIGKILL during lvs.failover", () => {
  let lab: VmLab;
  beforeAll(async () => {
    lab = await startVmLab({ variant: "rr" });
  }, 300_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it(`${KILLS} kills at seeded random moments, each followed by hagrade restore, leave the lab as it was`, async () => {
    const journalDir = mkdtempSync(join(tmpdir(), "hagrade-chaos-lvs-"));
    dirs.push(journalDir);
    const page = async () => (await lab.webserverExec("webserver1", "curl -s -m 3 http://127.0.0.1/ || true")).stdout;
    const records = await killLoop(
      {
        specPath: lab.specPath,
        part: "lvs",
        check: "lvs.failover",
        state: page,
        bothServe: () => untilTrue(async () => (await servedNames(lab.spec.vip.address, 8)).size === 2, 30_000),
      },
      journalDir,
    );
    const seen = records.map((r) => `${r.delayMs} ms ${r.phase}`).join("; ");
    console.log(`lvs.failover kills: ${seen}`);
    expect(records.some((r) => r.phase === "changed"), seen).toBe(true);
  }, 1_800_000);
});


/** Both web servers' pages as they serve them locally, byte for byte. */
async function vmPages(lab: VmLab): Promise<string> {
  const pages = await Promise.all(
    (["webserver1", "webserver2"] as const).map(async (b) => (await lab.webserverExec(b, "curl -s -m 3 http://127.0.0.1/ | md5sum || true")).stdout.trim()),
  );
  return pages.join(" ");
}

describe("SIGKILL during lvs.http-get (the page made wrong)", () => {
  let lab: VmLab;
  beforeAll(async () => {
    lab = await startVmLab({ variant: "http-get-correct" });
  }, 300_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it(`${KILLS} kills at seeded random moments, each followed by hagrade restore, leave both pages byte for byte`, async () => {
    const journalDir = mkdtempSync(join(tmpdir(), "hagrade-chaos-httpget-"));
    dirs.push(journalDir);
    const records = await killLoop(
      {
        specPath: lab.specPath,
        part: "lvs",
        check: "lvs.http-get",
        state: () => vmPages(lab),
        bothServe: () => untilTrue(async () => (await servedNames(lab.spec.vip.address, 8)).size === 2, 30_000),
      },
      journalDir,
    );
    const seen = records.map((r) => `${r.delayMs} ms ${r.phase}`).join("; ");
    console.log(`lvs.http-get kills: ${seen}`);
    expect(records.some((r) => r.phase === "changed"), seen).toBe(true);
  }, 1_800_000);
});

describe("SIGKILL during lvs.vrrp-failover (keepalived stopped on the MASTER)", () => {
  let lab: VmLab;
  beforeAll(async () => {
    lab = await startVmLab({ variant: "rr", directors: 2 });
  }, 300_000);
  afterAll(async () => {
    await lab?.stop();
  });

  it(`${KILLS} kills at seeded random moments, each followed by hagrade restore, leave the MASTER holding the VIP`, async () => {
    const journalDir = mkdtempSync(join(tmpdir(), "hagrade-chaos-vrrp-"));
    dirs.push(journalDir);
    const state = async () => {
      const running = (await lab.machineExec("director1", "pgrep -x keepalived >/dev/null && echo running || echo stopped")).stdout.trim();
      return `keepalived ${running} on director1; VIP on ${(await lab.vipHolder()) ?? "none"}`;
    };
    expect(await state()).toBe("keepalived running on director1; VIP on director1");
    const records = await killLoop(
      {
        specPath: lab.specPath,
        part: "lvs",
        check: "lvs.vrrp-failover",
        state,
        bothServe: () => untilTrue(async () => (await servedNames(lab.spec.vip.address, 8)).size === 2, 30_000),
      },
      journalDir,
    );
    const seen = records.map((r) => `${r.delayMs} ms ${r.phase}`).join("; ");
    console.log(`lvs.vrrp-failover kills: ${seen}`);
    expect(records.some((r) => r.phase === "changed"), seen).toBe(true);
  }, 1_800_000);
});
