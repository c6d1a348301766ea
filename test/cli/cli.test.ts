/**
 * The command line as users meet it: exit codes, clear messages for bad input (never a stack
 * trace), and a package that works after `npm pack` + install.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT, exitCodeFor } from "../../src/cli.js";
import type { Outcome, RunResult } from "../../src/runner/types.js";
import { limited } from "../hardening/cli.js";
import { ROOT, STACK_LINE, hagrade } from "./hagrade.js";
import { loopbackSpecFields, startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";

const run = promisify(execFile);
const BAD = join(ROOT, "test/config/fixtures/bad");

describe("hagrade CLI", () => {
  it("prints help and version", async () => {
    const help = await hagrade(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("hagrade run --spec");
    expect(help.stdout).toMatch(/Exit codes/);
    for (const name of ["run", "init", "restore", "report", "batch", "merge", "regrade"]) expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
    const version = await hagrade(["--version"]);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    for (const args of [["-V"], ["version"]]) {
      const r = await hagrade(args);
      expect([r.code, r.stdout], args[0]).toEqual([0, version.stdout]);
    }
  });

  it.each(["run", "init", "restore", "report", "batch", "merge", "regrade", "doctor", "checks"])("`hagrade %s --help` prints its usage, every option and an example, exit 0", async (name) => {
    const r = await hagrade([name, "--help"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage:\\n  hagrade ${name}\\b`, "m"));
    expect(r.stdout).toMatch(/^Options:$/m);
    expect(r.stdout).toMatch(new RegExp(`^Examples?:\\n  hagrade ${name}\\b`, "m"));
    // The help is written from the flags the command parses: each one it names is accepted.
    const flags = [...r.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!);
    expect(flags).toContain("--help");
    if (name === "run") expect(flags).toEqual(expect.arrayContaining(["--spec", "--only", "--reporter", "--min-score", "--disruptive"]));
    const same = await hagrade(["help", name]);
    expect(same.stdout).toBe(r.stdout);
    // -h works too, wherever it stands among the command's flags.
    const short = await hagrade([name, "--lang", "en", "-h"]);
    expect([short.code, short.stdout]).toEqual([0, r.stdout]);
  });

  it("rejects unknown commands and flags with exit code 2 and no stack trace", async () => {
    for (const args of [["frobnicate"], ["run", "--nope"], ["run"], ["run", "--spec", "x.yaml", "--part", "both"], ["run", "--spec", "x", "--lang", "fr"]]) {
      const r = await hagrade(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/hagrade: /);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });

  it.each([
    [["batch", "--roster", "r.csv", "--lang", "fr"], "--lang"],
    [["batch", "--roster", "r.csv", "--part", "both"], "--part"],
    [["batch", "--roster", "r.csv", "--concurrency", "0"], "--concurrency"],
    [["batch", "--nope"], "--nope"],
    [["merge", "--lang", "fr", "somewhere"], "--lang"],
    [["merge"], "merge SHARD_DIR"],
    [["regrade", "x.json"], "--rubric"],
    [["report", "a.json", "b.json"], "report RESULT.json"],
  ])("%j: exit 2, one line naming %s and the way to help, no stack trace", async (args, named) => {
    const r = await hagrade(args);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines, r.stderr).toHaveLength(2);
    expect(lines[0]).toMatch(/^hagrade: /);
    expect(lines[0]).toContain(named);
    expect(lines[1]).toBe(`Run \`hagrade ${args[0]} --help\` for usage.`);
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

  it("init writes a starter spec that `run` accepts and grades", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hagrade-cli-"));
    try {
      const out = join(dir, "lab.yaml");
      const r = await hagrade(["init", "--lang", "en", "--out", out]);
      expect(r.code).toBe(0);
      const again = await hagrade(["init", "--out", out]);
      expect(again.code).toBe(2);
      expect(again.stderr).toContain("--force");

      // The starter names the usual key (~/.ssh/id_ed25519): a home where it exists, as a
      // teacher's has. Its example addresses become loopback ones where nothing listens, so the
      // run really grades (and fails) without sending a packet off this machine.
      const home = join(dir, "home");
      await mkdir(join(home, ".ssh"), { recursive: true, mode: 0o700 });
      await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(home, ".ssh/id_ed25519")]);
      const starter = await readFile(out, "utf8");
      const onLoopback = starter.replaceAll("192.168.0.10", "127.0.0.74").replaceAll("192.168.100.", "127.0.0.");
      expect(onLoopback).not.toMatch(/\b(?!127\.)\d+\.\d+\.\d+\.\d+\b/);
      await writeFile(out, onLoopback);
      const graded = await hagrade(["run", "--spec", out, "--only", "net.vip-http", "--reporter", "json"], dir, { ...process.env, HOME: home });
      expect(graded.stderr).not.toMatch(/problem/i);
      expect(graded.code, graded.stderr).toBe(1);
      const result = JSON.parse(await readFile(join(dir, "reports/alumno-01/result.json"), "utf8")) as RunResult;
      expect(result.lab).toBe("alumno-01");
      expect(result.lang).toBe("en");
      expect(result.checks.map((c) => [c.id, c.outcome])).toEqual([["net.vip-http", "fail"]]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});

function resultWith(checks: { outcome: Outcome; points: number; maxPoints: number }[]): RunResult {
  const counts: Record<Outcome, number> = { pass: 0, fail: 0, inconclusive: 0, error: 0, skipped: 0 };
  for (const c of checks) counts[c.outcome]++;
  return {
    schemaVersion: 1,
    tool: { name: "hagrade", version: "0.0.0" },
    lab: "exit-codes",
    part: "proxy",
    partSource: "spec",
    lang: "en",
    startedAt: new Date(0).toISOString(),
    durationMs: 1,
    score: checks.reduce((s, c) => s + c.points, 0),
    maxScore: checks.reduce((s, c) => s + c.maxPoints, 0),
    counts,
    traffic: { httpRequests: 0, sshCommands: 0 },
    notes: [],
    checks: checks.map((c, i) => ({
      id: `check.${i}`,
      part: "net",
      title: { es: "x", en: "x" },
      message: { es: "x", en: "x" },
      evidence: [],
      startedAt: new Date(0).toISOString(),
      durationMs: 1,
      ...c,
    })),
  };
}

describe("exitCodeFor: the exit code contract", () => {
  it("a grader error is 3 whatever the score; below the minimum is 1; at or above it is 0", () => {
    const full = resultWith([{ outcome: "pass", points: 2, maxPoints: 2 }, { outcome: "pass", points: 1, maxPoints: 1 }]);
    const partial = resultWith([{ outcome: "pass", points: 2, maxPoints: 2 }, { outcome: "fail", points: 0, maxPoints: 1 }]);
    const broken = resultWith([{ outcome: "pass", points: 2, maxPoints: 2 }, { outcome: "error", points: 0, maxPoints: 1 }]);
    expect([EXIT.ok, EXIT.studentFault, EXIT.infrastructure]).toEqual([0, 1, 3]);
    expect(exitCodeFor(full, 3)).toBe(0);
    expect(exitCodeFor(partial, 3)).toBe(1);
    expect(exitCodeFor(partial, 2)).toBe(0);
    expect(exitCodeFor(partial, 2.01)).toBe(1);
    expect(exitCodeFor(partial, 0)).toBe(0);
    expect(exitCodeFor(broken, 0)).toBe(3);
    expect(exitCodeFor(broken, 3)).toBe(3);
    // Rounded scores (2/3 of a point, rounded to 0.67) meet a minimum written the same way.
    const credit = resultWith([{ outcome: "pass", points: 0.67, maxPoints: 1 }]);
    expect(exitCodeFor(credit, 0.67)).toBe(0);
  });
});

describe("hagrade run against a real Apache balancer on loopback", () => {
  let lab: LoopbackLab;
  let dir: string;

  beforeAll(async () => {
    lab = await startLoopbackLab(70);
    dir = await mkdtemp(join(tmpdir(), "hagrade-cli-run-"));
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The balancer does 1:1; `loadfactor` says what the spec expects of webserver1. */
  async function writeSpec(name: string, fields: Record<string, unknown>, loadfactor = 1): Promise<string> {
    const file = join(dir, `${name}.json`);
    await writeFile(
      file,
      JSON.stringify({
        lab: name,
        part: "proxy",
        ...loopbackSpecFields(lab.apache, [lab.ws1, lab.ws2], [loadfactor, 1]),
        ...fields,
      }),
    );
    return file;
  }

  it("--min-score: exit 0 at or below the score, 1 above it and by default (all points)", async () => {
    // Expecting 3:1 from a 1:1 balancer: proxy.loadfactor (2 points) fails, the other two pass.
    const spec = await writeSpec("min-score", { lang: "en" }, 3);
    const only = ["--only", "net.vip-http,net.two-backends,proxy.loadfactor", "--reporter", "json"];
    const json = join(dir, "min-score.result.json");
    // A working folder of its own: the default journal folder (reports/.journal) lands there.
    const cwd = join(dir, "ci-job");
    await mkdir(cwd);
    const byDefault = await hagrade(["run", "--spec", spec, ...only, "--json", json], cwd);
    expect(byDefault.code, byDefault.stderr).toBe(1);
    const result = JSON.parse(await readFile(json, "utf8")) as RunResult;
    expect(result.checks.map((c) => [c.id, c.outcome])).toEqual([
      ["net.vip-http", "pass"],
      ["net.two-backends", "pass"],
      ["proxy.loadfactor", "fail"],
    ]);
    expect([result.score, result.maxScore]).toEqual([2, 4]);

    const atScore = await hagrade(["run", "--spec", spec, ...only, "--json", json, "--min-score", "2"], cwd);
    expect(atScore.code, atScore.stderr).toBe(0);
    const above = await hagrade(["run", "--spec", spec, ...only, "--json", json, "--min-score", "2.5"], cwd);
    expect(above.code, above.stderr).toBe(1);
    const bad = await hagrade(["run", "--spec", spec, ...only, "--min-score", "lots"], cwd);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--min-score");
  }, 300_000);

  it("without --out and --lang: reports under reports/<lab>/ of the working folder, in the spec's language", async () => {
    const cwd = join(dir, "teacher");
    await mkdir(cwd);
    const spec = await writeSpec("english-lab", { lang: "en" });
    const r = await hagrade(["run", "--spec", spec, "--only", "net.vip-http,net.two-backends"], cwd);
    expect(r.code, r.stderr).toBe(0);
    const reports = join(cwd, "reports/english-lab");
    for (const file of ["result.json", "junit.xml", "scorecard.html"]) expect(existsSync(join(reports, file)), file).toBe(true);
    expect(r.stdout).toContain("hagrade · Grading english-lab · part 2 (Apache reverse proxy)");
    expect(r.stdout).toMatch(/^Score: 2\/2/m);
    expect(r.stdout).toContain(`Written: ${join(reports, "result.json")}`);
    expect(r.stdout).not.toMatch(/Puntuación|Evaluando|Escrito/);
    const result = JSON.parse(await readFile(join(reports, "result.json"), "utf8")) as RunResult;
    expect(result.lang).toBe("en");
    expect(await readFile(join(reports, "scorecard.html"), "utf8")).toMatch(/<html[^>]*lang="en"/);
    // Nothing was written into the repository's own reports folder for this lab.
    expect(existsSync(join(ROOT, "reports/english-lab"))).toBe(false);
  }, 180_000);
});
