/**
 * Rosters as spreadsheets and LMSs export them, and the mistakes teachers make in them; the
 * class summary's arithmetic; re-scoring under a new rubric.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { correlation, loadRoster, parseShard, regradeResult, shardOf, summarizeClass, type LabEntry } from "../../src/batch/index.js";
import { loadSpec } from "../../src/config/index.js";
import type { CheckResult, RunResult } from "../../src/runner/types.js";

const dir = mkdtempSync(join(tmpdir(), "hagrade-roster-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const TEMPLATE = `lab: course
vip: { address: 10.0.0.10 }
balancer: { internalAddress: 10.1.0.1 }
backends:
  - { name: webserver1, address: 10.1.0.11, loadfactor: 3 }
  - { name: webserver2, address: 10.1.0.12 }
`;

describe("loadRoster", () => {
  it("reads a semicolon CSV with a BOM and CRLF as a Spanish spreadsheet writes it, and types the cells", async () => {
    const roster = await loadRoster(file("es.csv", "\uFEFFid;name;vip.address;backends.1.address;backends.1.loadfactor;grader.sourceAddresses;ssh.password.env\r\nA001;Núñez, José;10.0.5.10;10.1.5.12;2;[10.0.5.100, 10.0.5.101];PASS_A001\r\n"));
    expect(roster.ok).toBe(true);
    if (!roster.ok) return;
    const [a] = roster.entries;
    expect(a).toMatchObject({ id: "A001", name: "Núñez, José", lab: "A001", index: 0 });
    expect(a!.overrides).toMatchObject({
      vip: { address: "10.0.5.10" },
      grader: { sourceAddresses: ["10.0.5.100", "10.0.5.101"] },
      ssh: { password: { env: "PASS_A001" } },
    });
    // One field of one backend changes; the template's other fields of that backend stay.
    const spec = await loadSpec(file("t.yaml", TEMPLATE), a!.overrides, { env: { PASS_A001: "x" } });
    expect(spec.ok, JSON.stringify(!spec.ok && spec.problems)).toBe(true);
    if (!spec.ok) return;
    expect(spec.spec.backends[1]).toMatchObject({ name: "webserver2", address: "10.1.5.12", loadfactor: 2 });
    expect(spec.spec.backends[0]).toMatchObject({ name: "webserver1", address: "10.1.0.11", loadfactor: 3 });
    expect(spec.spec.student).toEqual({ id: "A001", name: "Núñez, José" });
  });

  it("reads a YAML list with nested spec fields", async () => {
    const roster = await loadRoster(file("r.yaml", "- id: A001\n  name: Ana\n  vip: { address: 10.0.9.10 }\n  ssh: { password: { file: a001.txt } }\n- id: 'A 002'\n"));
    expect(roster.ok).toBe(true);
    if (!roster.ok) return;
    expect(roster.entries.map((e) => e.lab)).toEqual(["A001", "A_002"]);
    expect(roster.entries[0]!.overrides).toMatchObject({ vip: { address: "10.0.9.10" }, ssh: { password: { file: "a001.txt" } } });
  });

  it.each([
    ["a missing id", "id,name\n,Ana\n", /row 2: the student id is missing/i],
    ["two rows for one lab", "id,name\nA1,Ana\nA1,Bea\n", /already on row 2/],
    ["a column that is no spec field", "id,vip.adress,colour\nA1,10.0.0.1,red\n", /Column "colour": not a spec field/],
    ["a prototype-polluting column", "id,vip.__proto__.x\nA1,1\n", /not a spec field/],
    ["a ragged row", 'id,name\nA1,"Ana\n', /Malformed CSV/],
    ["an empty roster", "id,name\n", /no students/],
    ["a lab name unfit for a folder", "id,lab\nA1,../etc\n", /not a valid folder name/],
  ])("rejects %s with the row and the fix", async (_name, text, message) => {
    const roster = await loadRoster(file(`bad-${Math.random()}.csv`, text));
    expect(roster.ok).toBe(false);
    if (roster.ok) return;
    expect(roster.problems.map((p) => p.message.en).join("\n")).toMatch(message);
    for (const p of roster.problems) expect(p.fix.en.length).toBeGreaterThan(10);
  });

  it("rejects a roster that is not UTF-8 and one that does not exist", async () => {
    const latin1 = await loadRoster(file("latin1.csv", Buffer.from("id,name\nA1,Jos\xe9\n", "latin1")));
    expect(!latin1.ok && latin1.problems[0]!.fix.en).toMatch(/CSV UTF-8/);
    const missing = await loadRoster(join(dir, "nope.csv"));
    expect(!missing.ok && missing.problems[0]!.message.en).toMatch(/does not exist/);
  });
});

describe("shards", () => {
  it("split the roster into disjoint slices that cover it", () => {
    const rows = Array.from({ length: 11 }, (_, index) => ({ index }));
    const slices = [1, 2, 3].map((i) => shardOf(rows, { index: i, total: 3 }).map((r) => r.index));
    expect(slices.flat().sort((a, b) => a - b)).toEqual(rows.map((r) => r.index));
    expect(new Set(slices.flat()).size).toBe(rows.length);
    expect(parseShard("2/3")).toEqual({ index: 2, total: 3 });
    for (const bad of ["0/3", "4/3", "1/0", "a/b", "1"]) expect(parseShard(bad)).toBeUndefined();
  });
});

function check(id: string, outcome: CheckResult["outcome"], points: number, maxPoints: number, extra: Partial<CheckResult> = {}): CheckResult {
  return { id, part: "net", title: { es: id, en: id }, outcome, points, maxPoints, message: { es: "", en: "" }, evidence: [], startedAt: "", durationMs: 0, ...extra };
}

function result(lab: string, checks: CheckResult[]): RunResult {
  const score = checks.reduce((a, c) => a + c.points, 0);
  const maxScore = checks.reduce((a, c) => a + c.maxPoints, 0);
  return {
    schemaVersion: 1, tool: { name: "hagrade", version: "t" }, lab, part: "proxy", partSource: "spec", lang: "en", startedAt: "", durationMs: 0,
    score, maxScore, counts: { pass: 0, fail: 0, inconclusive: 0, error: 0, skipped: 0 }, traffic: { httpRequests: 0, sshCommands: 0 }, notes: [], checks,
  };
}

function entry(index: number, r: RunResult): LabEntry {
  return { schemaVersion: 1, index, lab: r.lab, student: { id: r.lab }, status: "graded", key: "k", score: r.score, maxScore: r.maxScore, startedAt: "", durationMs: 0 };
}

describe("class summary", () => {
  it("computes pass rates, partial credit, the distribution and discrimination from the results", () => {
    const labs = [
      result("a", [check("net.vip-http", "pass", 1, 1), check("proxy.loadfactor", "pass", 2, 2)]),
      result("b", [check("net.vip-http", "pass", 1, 1), check("proxy.loadfactor", "fail", 0, 2)]),
      result("c", [check("net.vip-http", "fail", 0, 1), check("proxy.loadfactor", "fail", 1, 2, { credit: 0.5 })]),
      result("d", [check("net.vip-http", "pass", 1, 1), check("proxy.failover", "skipped", 0, 0, { notRequested: true })]),
    ];
    const s = summarizeClass(labs.map((r, i) => ({ entry: entry(i, r), result: r })));
    const vip = s.items.find((i) => i.id === "net.vip-http")!;
    expect(vip).toMatchObject({ graded: 4, passRate: 0.75, counts: { pass: 3, fail: 1 } });
    const lf = s.items.find((i) => i.id === "proxy.loadfactor")!;
    expect(lf).toMatchObject({ graded: 3, passRate: 0.333, meanCredit: 0.5 });
    expect(s.items.some((i) => i.id === "proxy.failover")).toBe(false);
    expect(s.scores.histogram.reduce((a, b) => a + b, 0)).toBe(4);
    expect(s.scores.histogram[9]).toBe(2); // a and d: 100 %
    expect(s.scores.medianPercent).toBeCloseTo(66.667, 2); // 33.3, 33.3, 100, 100
  });

  it("has a correlation that is Pearson's and undefined where it should be", () => {
    expect(correlation([1, 2, 3], [2, 4, 6])).toBe(1);
    expect(correlation([1, 2, 3], [3, 2, 1])).toBe(-1);
    expect(correlation([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(correlation([1, 2], [1, 2])).toBeNull();
  });
});

describe("regradeResult", () => {
  it("keeps outcomes and earned fractions and changes only the points", () => {
    const r = result("a", [
      check("net.vip-http", "pass", 1, 1, { credit: 1 }),
      check("lvs.persistence", "fail", 1, 2, { credit: 0.5 }),
      check("proxy.failover", "skipped", 0, 0, { notRequested: true, credit: 0 }),
    ]);
    const g = regradeResult(r, { points: { "lvs.persistence": 4, "proxy.failover": 5 } });
    expect(g.checks.map((c) => [c.id, c.points, c.maxPoints, c.outcome])).toEqual([
      ["net.vip-http", 1, 1, "pass"],
      ["lvs.persistence", 2, 4, "fail"],
      ["proxy.failover", 0, 0, "skipped"],
    ]);
    expect([g.score, g.maxScore]).toEqual([3, 5]);
    expect(g.notes.at(-1)!.en).toMatch(/before: 2 \/ 3/);
  });
});
