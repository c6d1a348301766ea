/**
 * hagrade as a teacher installs it on any machine: `npm pack`, then `npm i -g --prefix` of the
 * tarball into an empty folder, and the `hagrade` command from that folder's bin on PATH, run
 * from a folder outside the checkout. (test/cli installs it as a local dependency instead.)
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

describe("the packed package installed globally into a prefix", () => {
  it("answers --version and writes a starter spec with init", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hagrade-global-"));
    try {
      const prefix = join(dir, "prefix");
      const work = join(dir, "work");
      await mkdir(work);
      await run("npm", ["run", "--silent", "build"], { cwd: ROOT, timeout: 240_000 });
      const { stdout } = await run("npm", ["pack", "--pack-destination", dir, "--silent"], { cwd: ROOT, timeout: 120_000 });
      const tarball = join(dir, stdout.trim().split("\n").pop()!);
      // Dependencies come from npm's cache when it has them; one npm install at a time on this machine.
      await run(
        "flock",
        ["/tmp/hagrade-npm.lock", "npm", "install", "--global", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball],
        { cwd: work, timeout: 300_000 },
      );
      const bin = join(prefix, "bin", "hagrade");
      expect(existsSync(bin)).toBe(true);
      const env = { ...process.env, PATH: `${join(prefix, "bin")}:${process.env.PATH ?? ""}` };

      const version = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
      const { stdout: printed } = await run("hagrade", ["--version"], { cwd: work, env, timeout: 60_000 });
      expect(printed.trim()).toBe(version.version);

      const out = join(work, "alumno-01.yaml");
      const { stdout: written } = await run("hagrade", ["init", "--lang", "en", "--out", out], { cwd: work, env, timeout: 60_000 });
      expect(written.trim()).toBe(out);
      const starter = await readFile(out, "utf8");
      expect(starter).toMatch(/^vip:/m);
      expect(starter).toMatch(/^backends:/m);

      // A bad spec is refused with exit code 2 and a message, not a stack trace.
      const refused = await run("hagrade", ["run", "--spec", join(work, "missing.yaml")], { cwd: work, env, timeout: 60_000 }).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("missing.yaml");
      expect(refused.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
