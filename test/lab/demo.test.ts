/**
 * `npm run demo` as a person runs it: the script brings the reference lab up, grades it with the
 * built CLI (disruptive checks included), writes the three reports and takes the lab down.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../src/runner/types.js";
import { run } from "./helpers.js";

const ROOT = resolve(import.meta.dirname, "../..");

interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

interface ScriptHooks {
  /** Called with the script's pid and its whole stderr so far, each time more arrives. */
  onStderr?: (pid: number, stderr: string) => void;
}

/** Runs a script of the repository in its own process group, killed as a whole past `timeoutMs`. */
function runScript(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, hooks: ScriptHooks = {}): Promise<ScriptRun & { pid: number }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("bash", args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (child.pid !== undefined) hooks.onStderr?.(child.pid, stderr);
    });
    // TERM first: the demo's trap takes its lab down before it exits.
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? (signal ? 128 : -1), stdout, stderr, pid: child.pid ?? -1 });
    });
  });
}

function readlinkSafe(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined; // the process is gone
  }
}

function readSafe(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

describe("npm run demo", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hagrade-demo-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("grades the reference lab with every check graded and full marks, writes the reports, leaves nothing behind", async () => {
    const out = join(dir, "reports");
    const journal = join(dir, "journal");
    // A later --out replaces the demo's reports/ folder: nothing is written into the repository.
    // The demo's lab, seen while it runs: its hosts' PID 1 and their network and PID namespaces.
    // Afterwards no process may be left in them (its index may meanwhile go to another lab).
    let stateDir: string | undefined;
    const hosts: { pid: string; namespaces: string[] }[] = [];
    const demo = await runScript(["scripts/demo.sh", "--out", out, "--journal-dir", journal], process.env, 420_000, {
      onStderr: (_pid, stderr) => {
        if (stateDir !== undefined) return;
        const specPath = /^demo: lab spec (\S+)$/m.exec(stderr)?.[1];
        if (specPath === undefined) return;
        stateDir = dirname(specPath);
        for (const host of ["balancer", "ws1", "ws2", "client"]) {
          const pid = readFileSync(join(stateDir, host, "init.pid"), "utf8").trim();
          hosts.push({ pid, namespaces: ["net", "pid"].map((ns) => readlinkSafe(`/proc/${pid}/ns/${ns}`)).filter((n): n is string => n !== undefined) });
        }
      },
    });
    const where = `exit ${demo.code}\n--- stdout\n${demo.stdout}\n--- stderr\n${demo.stderr.slice(-4000)}`;
    expect(stateDir, where).toBeDefined();
    expect(hosts.map((h) => h.namespaces.length)).toEqual([2, 2, 2, 2]);
    const index = /^hg(\d+)$/.exec(basename(stateDir!))?.[1];
    expect(index, stateDir).toBeDefined();
    const demoName = `demo-${demo.pid}`;

    expect(demo.code, where).toBe(0);
    const score = /^(?:Puntuación|Score): ([\d.]+)\/([\d.]+)/m.exec(demo.stdout);
    expect(score, where).not.toBeNull();
    expect(Number(score![2])).toBeGreaterThan(0);
    expect(score![1], where).toBe(score![2]);

    const written = [...demo.stdout.matchAll(/^(?:Escrito|Written): (.+)$/gm)].flatMap((m) => m[1]!.split(", "));
    expect(written.map((f) => basename(f)).sort()).toEqual(["junit.xml", "result.json", "scorecard.html"]);
    for (const file of written) {
      expect(file.startsWith(`${out}/`), file).toBe(true);
      expect(existsSync(file), file).toBe(true);
    }

    const result = JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as RunResult;
    expect(result.part).toBe("proxy");
    const notGraded = result.checks.filter((c) => c.outcome !== "pass").map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`);
    expect(notGraded, where).toEqual([]);
    expect(result.checks.some((c) => c.outcome === "skipped")).toBe(false);
    // The disruptive check really ran: it stopped a web server and put it back.
    const failover = result.checks.find((c) => c.id === "proxy.failover");
    expect(failover?.outcome).toBe("pass");
    expect(failover?.notRequested).toBeUndefined();
    expect(result.score).toBe(result.maxScore);
    expect(result.maxScore).toBe(Number(score![2]));

    // Nothing of the demo's lab is left: no process in its namespaces, no namespace, state or mount.
    const demoNamespaces = new Set(hosts.flatMap((h) => h.namespaces));
    const left = readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => ["net", "pid"].some((ns) => demoNamespaces.has(readlinkSafe(`/proc/${p}/ns/${ns}`) ?? "")))
      .map((p) => `${p} ${readSafe(`/proc/${p}/comm`).trim()}`);
    expect(left).toEqual([]);
    for (const h of hosts) expect(existsSync(`/proc/${h.pid}`) && readSafe(`/proc/${h.pid}/cmdline`).includes(stateDir!)).toBe(false);
    // The index is free again, or already another lab's (by its name), never still the demo's.
    const namespaces = (await run("ip", ["netns", "list"])).stdout;
    if (new RegExp(`^hg${index}-bal\\b`, "m").test(namespaces) || existsSync(stateDir!)) {
      expect(readSafe(join(stateDir!, "name")).trim()).not.toBe(demoName);
    } else {
      expect(namespaces).not.toMatch(new RegExp(`^hg${index}-`, "m"));
      expect(readFileSync("/proc/self/mountinfo", "utf8")).not.toContain(`${stateDir}/`);
    }
  }, 480_000);

  it("without Node.js on PATH says which version it needs and how to get it, exit 2, and builds no lab", async () => {
    // A PATH with every command of this machine but node and npm.
    const bin = join(dir, "bin-without-node");
    await mkdir(bin);
    for (const folder of ["/usr/local/bin", "/usr/bin", "/bin"]) {
      if (!existsSync(folder)) continue;
      for (const name of readdirSync(folder)) {
        if (["node", "nodejs", "npm", "npx", "corepack"].includes(name) || existsSync(join(bin, name))) continue;
        await symlink(join(folder, name), join(bin, name));
      }
    }
    const env = { ...process.env, PATH: `${bin}:/usr/local/sbin:/usr/sbin:/sbin` };
    const demo = await runScript(["scripts/demo.sh"], env, 60_000);
    expect(demo.code, demo.stderr).toBe(2);
    const needed = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }).engines.node.replace(/^>=\s*/, "");
    const lines = demo.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Node.js >= ${needed}`);
    expect(lines[0]).toContain("found: none");
    expect(lines[0]).toMatch(/nodejs\.org|nvm install/);
    expect(demo.stderr).not.toContain("bringing up");
  }, 90_000);

  it("with a Node.js older than package.json's engines names both versions, exit 2, before installing anything", async () => {
    // The same script beside a package.json that asks more than this machine's node has.
    const have = process.versions.node;
    const [major = 0, minor = 0] = have.split(".").map(Number);
    for (const needed of [`${major + 1}.0.0`, `${major}.${minor + 1}.0`]) {
      const copy = join(dir, `engines-${needed}`);
      await mkdir(join(copy, "scripts"), { recursive: true });
      await writeFile(join(copy, "package.json"), JSON.stringify({ name: "x", engines: { node: `>=${needed}` } }, null, 2));
      await copyFile(join(ROOT, "scripts/ensure-deps.sh"), join(copy, "scripts/ensure-deps.sh"));
      const r = await run("bash", [join(copy, "scripts/ensure-deps.sh")], 30_000);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`Node.js >= ${needed} (found: ${have})`);
      expect(existsSync(join(copy, "node_modules"))).toBe(false);
    }
  });
});
