/**
 * The command line as users meet it: exit codes, clear messages for bad input (never a stack
 * trace), and a package that works after `npm pack` + install.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { limited } from "../hardening/cli.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const BAD = join(ROOT, "test/config/fixtures/bad");

async function hagrade(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", join(ROOT, "src/bin.ts"), ...args], { cwd, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const STACK_LINE = /^\s+at .+\(.*:\d+:\d+\)$/m;

describe("hagrade CLI", () => {
  it("prints help and version", async () => {
    const help = await hagrade(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("hagrade run --spec");
    expect(help.stdout).toMatch(/Exit codes/);
    const version = await hagrade(["--version"]);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("rejects unknown commands and flags with exit code 2 and no stack trace", async () => {
    for (const args of [["frobnicate"], ["run", "--nope"], ["run"], ["run", "--spec", "x.yaml", "--part", "both"], ["run", "--spec", "x", "--lang", "fr"]]) {
      const r = await hagrade(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/hagrade: /);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });

  it("every bad spec file gives exit code 2 and a message naming the field, never a stack trace", async () => {
    // inline-secret.yaml is valid (only warned): running it would grade its example addresses.
    const files = (await readdir(BAD)).filter((f) => /\.(ya?ml|json)$/.test(f) && f !== "inline-secret.yaml");
    expect(files.length).toBeGreaterThanOrEqual(10);
    // A few at a time: dozens of CLIs at once on a loaded 2-core machine meet the child timeout.
    const results = await limited(3, files.map((file) => () => hagrade(["run", "--spec", join(BAD, file), "--lang", "en"])));
    for (const [i, file] of files.entries()) {
      const r = results[i]!;
      expect(r.code, file).toBe(2);
      expect(r.stderr, file).toMatch(/problem/i);
      expect(r.stderr, file).not.toMatch(STACK_LINE);
    }
  }, 300_000);

  it("a missing spec file is exit code 2 with the fix", async () => {
    const r = await hagrade(["run", "--spec", "/nonexistent/lab.yaml", "--lang", "en"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("hagrade init");
  });

  it("init writes a starter spec that `run` accepts as input (until it tries the network)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hagrade-cli-"));
    try {
      const out = join(dir, "lab.yaml");
      const r = await hagrade(["init", "--lang", "en", "--out", out]);
      expect(r.code).toBe(0);
      const again = await hagrade(["init", "--out", out]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain("--force");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("works from a packed tarball installed in a temporary folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hagrade-pack-"));
    try {
      await run("npm", ["run", "--silent", "build"], { cwd: ROOT, timeout: 240_000 });
      const { stdout } = await run("npm", ["pack", "--pack-destination", dir, "--silent"], { cwd: ROOT, timeout: 120_000 });
      const tarball = join(dir, stdout.trim().split("\n").pop()!);
      await writeFile(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true }));
      await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", tarball], { cwd: dir, timeout: 240_000 });
      const { stdout: help } = await run("npx", ["--no-install", "hagrade", "--help"], { cwd: dir, timeout: 60_000 });
      expect(help).toContain("hagrade run --spec");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
