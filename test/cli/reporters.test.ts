/**
 * Every report format from the real command line: one `run` writes Gradescope's results.json,
 * TAP, a Markdown summary and JUnit side by side, or the JSON result to standard output; `report`
 * re-renders a saved result in each of them, JUnit telling the student's `inconclusive` (a
 * failure) from the grader's own `error`, valid against the Jenkins schema; `--since` shows what
 * changed in every format.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../src/model/index.js";
import type { GradescopeResults } from "../../src/report/gradescope.js";
import { loopbackSpecFields, startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";
import { brokenLab, passingLab } from "../report/results.js";
import { ROOT, hagrade } from "./hagrade.js";

const XSD = join(ROOT, "test/report/fixtures/jenkins-junit.xsd");
const xpath = (file: string, expr: string) => spawnSync("xmllint", ["--xpath", expr, file], { encoding: "utf8" }).stdout.trim();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hagrade-reporters-"));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** TAP 14 read as a consumer would: the plan, and each test point's status, number and directive. */
function readTap(text: string) {
  const lines = text.split("\n");
  const plan = /^1\.\.(\d+)$/.exec(lines.find((l) => /^1\.\.\d+$/.test(l)) ?? "")?.[1];
  const points = lines
    .map((l) => /^(ok|not ok) (\d+) - (\S+)(?: - .*?)?(?: # (SKIP|TODO)\b.*)?$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ ok: m[1] === "ok", n: Number(m[2]), id: m[3]!, directive: m[4] }));
  return { version: lines[0], plan: Number(plan), points };
}

describe("one run writes every format", () => {
  let lab: LoopbackLab;
  let spec: string;
  beforeAll(async () => {
    lab = await startLoopbackLab(190);
    // The balancer does 1:1 and the spec expects 3:1: proxy.loadfactor fails, the rest passes.
    spec = join(dir, "lab.json");
    await writeFile(spec, JSON.stringify({ lab: "formats", part: "proxy", lang: "en", ...loopbackSpecFields(lab.apache, [lab.ws1, lab.ws2], [3, 1]) }));
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
  });

  const only = ["--only", "net.vip-http,net.two-backends,proxy.loadfactor,proxy.failover"];

  it("gradescope, tap, markdown and junit from a single run, next to the console", async () => {
    const out = join(dir, "run");
    const gradescope = join(dir, "autograder/results/results.json");
    const r = await hagrade(["run", "--spec", spec, ...only, "--reporter", "console,tap,markdown,junit", "--out", out, "--gradescope", gradescope], dir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^Score: 2\/4/m);

    // Gradescope's autograder contract: results.json with the score and one test per check.
    const gs = JSON.parse(await readFile(gradescope, "utf8")) as GradescopeResults;
    expect(gs.score).toBe(2);
    expect(gs.tests.map((t) => [t.name.split(" ")[0], t.score, t.max_score, t.status])).toEqual([
      ["net.vip-http", 1, 1, "passed"],
      ["net.two-backends", 1, 1, "passed"],
      ["proxy.loadfactor", 0, 2, "failed"],
    ]);
    expect(gs.tests.reduce((s, t) => s + t.max_score, 0)).toBe(4);
    expect(gs.tests.find((t) => t.name.startsWith("proxy.loadfactor"))?.output).toMatch(/^Failed: .*\nHow to fix it: /s);

    const tap = readTap(await readFile(join(out, "results.tap"), "utf8"));
    expect(tap.version).toBe("TAP version 14");
    expect(tap.plan).toBe(4);
    expect(tap.points.map((p) => [p.n, p.id, p.ok, p.directive])).toEqual([
      [1, "net.vip-http", true, undefined],
      [2, "net.two-backends", true, undefined],
      [3, "proxy.loadfactor", false, undefined],
      [4, "proxy.failover", true, "SKIP"],
    ]);

    const md = await readFile(join(out, "summary.md"), "utf8");
    expect(md).toMatch(/^## hagrade · formats · Part 2: Apache reverse proxy$/m);
    expect(md).toContain("**Score: 2 / 4** · ❌ 1 failed · ✅ 2 passed · ⏭️ 1 skipped");
    expect(md).toMatch(/^### Fix next\n\n1\. \*\*proxy\.loadfactor\*\* — \S/m);
    // The overview: failures first.
    const rows = md.split("\n").filter((l) => l.startsWith("| **"));
    expect(rows.map((l) => /^\| \*\*([^*]+)\*\*/.exec(l)![1]!.replace(/\\/g, ""))).toEqual(["proxy.loadfactor", "net.vip-http", "net.two-backends", "proxy.failover"]);

    expect(spawnSync("xmllint", ["--noout", "--schema", XSD, join(out, "junit.xml")]).status).toBe(0);
    // Only what was asked for.
    expect(existsSync(join(out, "scorecard.html"))).toBe(false);
    expect(existsSync(join(out, "result.json"))).toBe(false);
  }, 180_000);

  it("--json - writes the result to standard output and the console to stderr", async () => {
    const r = await hagrade(["run", "--spec", spec, ...only, "--reporter", "console", "--json", "-"], dir);
    expect(r.code, r.stderr).toBe(1);
    const result = JSON.parse(r.stdout) as RunResult;
    expect([result.lab, result.score, result.maxScore]).toEqual(["formats", 2, 4]);
    expect(r.stderr).toMatch(/^Score: 2\/4/m);
    expect(r.stderr).toContain("FAIL proxy.loadfactor");
    const both = await hagrade(["run", "--spec", spec, "--json", "-", "--markdown", "-"], dir);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("only one report can go to standard output");
    const unknown = await hagrade(["run", "--spec", spec, "--reporter", "console,xml"], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown reporter "xml"');
  }, 180_000);

  it("a spec that does not load still leaves Gradescope a results.json with the reason", async () => {
    const bad = join(dir, "bad.json");
    await writeFile(bad, JSON.stringify({ lab: "bad", part: "proxy", vip: { address: "not an address" } }));
    const gradescope = join(dir, "bad-results.json");
    const r = await hagrade(["run", "--spec", bad, "--lang", "en", "--gradescope", gradescope], dir);
    expect(r.code).toBe(2);
    const gs = JSON.parse(await readFile(gradescope, "utf8")) as GradescopeResults;
    expect(gs.score).toBe(0);
    expect(gs.tests).toEqual([]);
    expect(gs.output).toContain("vip.address");
  }, 60_000);
});

describe("report re-renders a saved result", () => {
  it("JUnit: inconclusive is a failure of type inconclusive, the grader's error stays <error>, valid against the Jenkins schema", async () => {
    const saved = join(dir, "broken.json");
    await writeFile(saved, JSON.stringify(brokenLab()));
    const xml = join(dir, "broken.xml");
    const r = await hagrade(["report", saved, "--junit", xml, "--lang", "en"]);
    expect(r.code).toBe(3);
    const v = spawnSync("xmllint", ["--noout", "--schema", XSD, xml], { encoding: "utf8" });
    expect(v.status, v.stderr).toBe(0);
    expect(xpath(xml, "string(//testcase[@name='proxy.loadfactor']/failure/@type)")).toBe("inconclusive");
    expect(xpath(xml, "count(//testcase[@name='proxy.loadfactor']/error)")).toBe("0");
    expect(xpath(xml, "string(//testcase[@name='proxy.modules']/error/@type)")).toBe("error");
    expect(xpath(xml, "string(/testsuite/@errors)")).toBe("1");
  }, 60_000);

  it("--since shows the checks whose outcome changed, in every format", async () => {
    const earlier = join(dir, "since-old.json");
    const now = join(dir, "since-new.json");
    await writeFile(earlier, JSON.stringify(passingLab()));
    await writeFile(now, JSON.stringify({ ...brokenLab(), lang: "en" }));
    const out = join(dir, "since");
    await mkdir(out);
    const files = { junit: "j.xml", tap: "t.tap", markdown: "s.md", gradescope: "g.json", json: "r.json", html: "s.html" };
    const r = await hagrade(["report", now, "--since", earlier, "--console", ...Object.entries(files).flatMap(([k, f]) => [`--${k}`, join(out, f)])]);
    expect(r.code).toBe(3);
    const read = (f: string) => readFile(join(out, f), "utf8");
    // In passingLab every check passed; in brokenLab net.vip-http fails and proxy.sticky still passes.
    expect(r.stdout).toMatch(/^Changed since .*since-old\.json \(8\/8\):$/m);
    expect(r.stdout).toMatch(/^ {2}net\.vip-http: PASS 1\/1 → FAIL 0\/1$/m);
    expect(r.stdout).not.toMatch(/^ {2}proxy\.sticky:/m);
    expect(await read(files.tap)).toMatch(/^# {3}net\.vip-http: pass 1\/1 -> fail 0\/1$/m);
    expect(await read(files.markdown)).toMatch(/^- \*\*net\.vip\\?-http\*\* .*: ✅ Passed 1\/1 → ❌ Failed 0\/1$/m);
    expect((JSON.parse(await read(files.gradescope)) as GradescopeResults).output).toContain("net.vip-http: Passed 1/1 → Failed 0/1");
    const json = JSON.parse(await read(files.json)) as { since: { changes: { id: string }[] } };
    expect(json.since.changes.map((c) => c.id)).toContain("net.vip-http");
    expect(json.since.changes.map((c) => c.id)).not.toContain("proxy.sticky");
    expect(xpath(join(out, files.junit), "string(//property[@name='net.vip-http.since']/@value)")).toBe("pass 1/1 -> fail 0/1");
  }, 120_000);
});
