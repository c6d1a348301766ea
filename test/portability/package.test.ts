/**
 * hagrade as a teacher installs it on any machine: from a clean copy of the checkout (no dist/),
 * `npm pack` builds it (the `prepare` script), the tarball is installed globally into an empty
 * prefix and as a course repository's dependency, and the `hagrade` command runs from a folder
 * outside the checkout. One build, one tarball, installs from npm's cache when it has everything.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

/** The files git tracks or would add, as they are in the working tree: a clone of what is being tested, without dist/. */
async function cleanCopy(to: string): Promise<void> {
  const { stdout } = await run("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  for (const file of stdout.split("\0")) {
    if (!file || !existsSync(join(ROOT, file))) continue;
    await mkdir(dirname(join(to, file)), { recursive: true });
    await cp(join(ROOT, file), join(to, file), { verbatimSymlinks: true });
  }
  // The build's tools (TypeScript) come from the checkout's devDependencies.
  await symlink(join(ROOT, "node_modules"), join(to, "node_modules"));
}

/** npm install from the cache alone; only when something is missing there, from the registry. One install at a time on this machine. */
async function npmInstall(args: string[], cwd: string): Promise<void> {
  const install = (mode: string) => run("flock", ["/tmp/hagrade-npm.lock", "npm", "install", mode, "--no-audit", "--no-fund", ...args], { cwd, timeout: 300_000 });
  await install("--offline").catch(() => install("--prefer-offline"));
}

/** Kilobytes on disk under a folder. */
async function diskKb(dir: string): Promise<number> {
  const { stdout } = await run("du", ["-sk", dir]);
  return Number(stdout.split("\t")[0]);
}

describe("the packed package, built from a clean copy and installed", () => {
  it("builds on pack, installs globally and as a dependency, and answers --help, --version, init and checks", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hagrade-package-"));
    try {
      const clone = join(dir, "clone");
      const prefix = join(dir, "prefix");
      const work = join(dir, "work");
      const course = join(dir, "course");
      await Promise.all([mkdir(work), mkdir(course)]);
      await cleanCopy(clone);
      expect(existsSync(join(clone, "dist"))).toBe(false);

      // `npm pack` runs `prepare`, which builds: no dist/ is needed beforehand.
      const { stdout } = await run("npm", ["pack", "--pack-destination", dir, "--silent"], { cwd: clone, timeout: 300_000 });
      const tarball = join(dir, stdout.trim().split("\n").pop()!);
      const { stdout: listing } = await run("tar", ["-tzf", tarball]);
      const packed = listing.split("\n").map((f) => f.replace(/^package\//, ""));
      for (const f of ["package.json", "LICENSE", "README.md", "docs/spec.md", "dist/src/bin.js"]) expect(packed, f).toContain(f);
      expect(packed.filter((f) => f.startsWith("src/") || f.startsWith("test/"))).toEqual([]);

      const manifest = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string; license: string; repository?: { url?: string } };
      expect((await readFile(join(ROOT, "LICENSE"), "utf8")).split("\n")[0]).toBe(`${manifest.license} License`);
      expect(manifest.repository?.url).toMatch(/^git\+https:\/\//);

      await npmInstall(["--global", "--prefix", prefix, tarball], work);
      const bin = join(prefix, "bin", "hagrade");
      expect(existsSync(bin)).toBe(true);
      const installed = join(prefix, "lib", "node_modules", "hagrade");
      const env = { ...process.env, PATH: `${join(prefix, "bin")}:${process.env.PATH ?? ""}` };
      const hagrade = (args: string[]) => run("hagrade", args, { cwd: work, env, timeout: 60_000 });

      const out = join(work, "alumno-01.yaml");
      const built = await run(process.execPath, [join(clone, "dist", "src", "bin.js"), "checks", "--json", "--lang", "en"], { cwd: work, timeout: 60_000 });
      const [help, version, init, checks] = await Promise.all([
        hagrade(["--help"]),
        hagrade(["--version"]),
        hagrade(["init", "--lang", "en", "--out", out]),
        hagrade(["checks", "--json", "--lang", "en"]),
      ]);
      expect(help.stdout).toContain("hagrade run --spec");
      expect(version.stdout.trim()).toBe(manifest.version);
      expect(init.stdout.trim()).toBe(out);
      const starter = await readFile(out, "utf8");
      expect(starter).toMatch(/^vip:/m);
      expect(starter).toMatch(/^backends:/m);
      // The reference the starter spec names is the one installed with hagrade.
      const reference = /Reference of every field: (\S+\.md)\./.exec(starter)?.[1];
      expect(reference).toBe(join(installed, "docs", "spec.md"));
      expect(existsSync(reference!)).toBe(true);
      // Every check the build has is in the installed package.
      expect(JSON.parse(checks.stdout)).toEqual(JSON.parse(built.stdout));
      expect((JSON.parse(checks.stdout) as unknown[]).length).toBeGreaterThan(10);

      // A bad spec is refused with exit code 2 and a message, not a stack trace.
      const refused = await hagrade(["run", "--spec", join(work, "missing.yaml")]).then(
        () => ({ code: 0, stderr: "" }),
        (error: { code: number; stderr: string }) => error,
      );
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain("missing.yaml");
      expect(refused.stderr).not.toMatch(/\n\s+at /);

      // As a course repository's devDependency (examples/ci), run through npx.
      await writeFile(join(course, "package.json"), JSON.stringify({ name: "course", private: true }));
      await npmInstall(["--save-dev", tarball], course);
      const { stdout: local } = await run("npx", ["--no-install", "hagrade", "--help"], { cwd: course, timeout: 60_000 });
      expect(local).toContain("hagrade run --spec");

      // What a teacher downloads and keeps on disk (DEVELOPERS.md, "The package").
      const kb = await diskKb(installed);
      console.log(`hagrade installed: tarball ${Math.round((await readFile(tarball)).length / 1024)} KiB, on disk ${(kb / 1024).toFixed(1)} MiB with its dependencies`);
      // Far above today's ~32 MiB: catches a build or test tree shipped by mistake, not growth.
      expect(kb).toBeLessThan(80 * 1024);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
