/**
 * The kill loop of `npm run test:chaos` (one *.chaos.ts file per disruptive check, so the loops
 * of different checks run side by side): the grader is killed with SIGKILL at 20 seeded random
 * moments of the check, on a real lab; after each kill `hagrade restore` must complete the
 * journal and the lab must be exactly as before (the web servers' pages, byte for byte; the
 * MASTER director holding the VIP; both servers through the VIP). The moments cover the whole
 * check: before the journal is written, between the journal and the stop, during the outage,
 * during the restore and after it.
 */
import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect } from "vitest";
import type { VmLab } from "../../fixtures/vm/index.js";

export const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, "../..");
export const BIN = join(ROOT, "dist/src/bin.js");
export const KILLS = Number(process.env.HAGRADE_CHAOS_KILLS ?? 20);
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

export interface Target {
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

export interface KillRecord {
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

export async function killLoop(target: Target, journalDir: string): Promise<KillRecord[]> {
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

export async function untilTrue(probe: () => Promise<boolean>, boundMs: number): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return probe();
}

export async function servedNames(vip: string, n: number): Promise<Set<string>> {
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

/** A journal folder for this file's loop, removed when the file ends. */
export function journalFolder(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** The kill moments and what each hit, for the log. */
export const killSummary = (records: readonly KillRecord[]): string => records.map((r) => `${r.delayMs} ms ${r.phase}`).join("; ");

/** Both web servers' pages as they serve them locally, byte for byte. */
export async function vmPages(lab: VmLab): Promise<string> {
  const pages = await Promise.all(
    (["webserver1", "webserver2"] as const).map(async (b) => (await lab.webserverExec(b, "curl -s -m 3 http://127.0.0.1/ | md5sum || true")).stdout.trim()),
  );
  return pages.join(" ");
}
