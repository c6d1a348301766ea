/**
 * The real command line as a child process, for the hardening tests: raw output bytes (to look
 * for escape sequences), the exit code, and the child's peak memory (its maxRSS, written by a
 * preloaded module when it exits).
 */
import { spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
const RSS_PROBE = join(import.meta.dirname, "rss-probe.mjs");

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: Buffer;
  /** Peak resident memory of the grader process, in bytes. */
  maxRssBytes: number | undefined;
  /** True when the bound below had to kill it. */
  killed: boolean;
}

/** A frame of a JavaScript stack trace, the thing a user must never see. */
export const STACK_FRAME = /^\s+at .+(\(.*:\d+:\d+\)|:\d+:\d+)$/m;

let runs = 0;

/**
 * Runs `hagrade ...args`; killed (and reported so) after `boundMs`, so a hang fails the test
 * instead of stalling the suite.
 */
export async function hagrade(args: string[], options: { env?: NodeJS.ProcessEnv; boundMs?: number; cwd?: string } = {}): Promise<CliRun> {
  const rssFile = join(tmpdir(), `hagrade-rss-${process.pid}-${++runs}.txt`);
  const child = spawn(process.execPath, ["--import", "tsx", "--import", RSS_PROBE, join(ROOT, "src/bin.ts"), ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...options.env, HAGRADE_RSS_FILE: rssFile },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, options.boundMs ?? 120_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done) => child.once("close", (c, s) => done([c, s])));
  clearTimeout(timer);
  const rss = await readFile(rssFile, "utf8").catch(() => undefined);
  await rm(rssFile, { force: true });
  return {
    code,
    signal,
    stdout: Buffer.concat(out),
    stderr: Buffer.concat(err),
    maxRssBytes: rss === undefined ? undefined : Number(rss) * 1024,
    killed,
  };
}

/** Escape sequences in `bytes` that are not the reporter's own colours (SGR: ESC [ n ; n m). */
export function foreignEscapes(bytes: Buffer): string[] {
  const text = bytes.toString("utf8");
  const found: string[] = [];
  // ESC, the 8-bit CSI/OSC (C1 as UTF-8) and BEL are all a terminal listens to.
  // eslint-disable-next-line no-control-regex
  const pattern = /\u001b\[[0-9;]*m|\u001b.{0,12}|[\u0080-\u009f\u0007]/gsu;
  for (const match of text.matchAll(pattern)) {
    // eslint-disable-next-line no-control-regex
    if (!/^\u001b\[[0-9;]*m$/u.test(match[0])) found.push(JSON.stringify(match[0]));
  }
  return found;
}

/** Runs `tasks` at most `width` at a time (the machine is shared). */
export async function limited<T>(width: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, tasks.length) }, async () => {
      while (next < tasks.length) {
        const index = next++;
        results[index] = await tasks[index]!();
      }
    }),
  );
  return results;
}
