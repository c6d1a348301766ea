/**
 * Batch grading on real labs side by side: a roster of reference labs (correct and broken
 * variants, one whose VIP drops every packet) graded in parallel; the gradebook, the item
 * analysis, the Gradescope files and the class JUnit are checked against each lab's own result;
 * re-runs skip what is graded; shards merged equal one run; a re-grade re-scores without the lab.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { parse as parseCsv } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import { gradeBatch, loadRoster, mergeShards, writeClassOutputs, type LabEntry, type RosterEntry } from "../../src/batch/index.js";
import type { ClassSummary } from "../../src/batch/summary.js";
import type { RunResult } from "../../src/runner/types.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");
const XSD = join(ROOT, "test/report/fixtures/jenkins-junit.xsd");
const VARIANTS = ["correct", "loadfactor-1-1", "no-stickysession", "ip-forward-off", "correct"] as const;
/** The last lab drops every packet to its VIP: it must be marked unreachable without holding up the others. */
const DROPPED = 4;

const labs: Lab[] = [];
let work: string;
let roster: RosterEntry[];
let template: string;

function rosterCsv(rows: Lab[]): string {
  const header = "id,name,email,vip.address,balancer.internalAddress,balancer.serviceAddress,balancer.ssh.host,backends.0.address,backends.1.address,grader.sourceAddresses,ssh.privateKey,ssh.knownHosts";
  const lines = rows.map((lab, i) => {
    const s = lab.spec;
    return [
      `S${String(i + 1).padStart(3, "0")}`,
      // Commas, accents and a would-be spreadsheet formula: the gradebook must carry them safely.
      i === 0 ? '"Pérez, Ana"' : i === 1 ? '"=HYPERLINK(""x"")"' : `Student ${i + 1}`,
      `s${i + 1}@example.org`,
      s.vip.address,
      s.balancer.internalAddress,
      s.balancer.serviceAddress,
      s.balancer.ssh.host,
      s.backends[0]!.address,
      s.backends[1]!.address,
      `"[${s.grader.sourceAddresses.slice(0, 4).join(", ")}]"`,
      s.ssh.privateKey,
      s.ssh.knownHosts,
    ].join(",");
  });
  return [header, ...lines].join("\r\n") + "\r\n";
}

async function batch(out: string, extra: Partial<Parameters<typeof gradeBatch>[0]> = {}) {
  const ends: { entry: LabEntry; cached: boolean }[] = [];
  const entries = await gradeBatch({
    roster,
    template,
    outDir: out,
    concurrency: 4,
    budgetMs: 180_000,
    lang: "en",
    part: "proxy",
    onLabEnd: (entry, cached) => ends.push({ entry, cached }),
    ...extra,
  });
  const { summary } = await writeClassOutputs(out, "en");
  return { entries, ends, summary };
}

const readResult = (out: string, lab: string) => JSON.parse(readFileSync(join(out, lab, "result.json"), "utf8")) as RunResult;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "hagrade-batch-"));
  const started = await Promise.allSettled(VARIANTS.map((variant) => startLab({ variant })));
  for (const s of started) if (s.status === "fulfilled") labs.push(s.value);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  const dropped = labs[DROPPED]!;
  const nft = `nft add table inet hgdrop && nft add chain inet hgdrop in '{ type filter hook prerouting priority -300; }' && nft add rule inet hgdrop in ip daddr ${dropped.spec.vip.address} drop`;
  const r = await dropped.hostExec("balancer", nft);
  if (r.code !== 0) throw new Error(`nft: ${r.stderr}`);
  template = join(work, "template.yaml");
  writeFileSync(template, readFileSync(labs[0]!.specPath, "utf8"));
  writeFileSync(join(work, "roster.csv"), rosterCsv(labs));
  const loaded = await loadRoster(join(work, "roster.csv"));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  roster = loaded.entries;
}, 240_000);

afterAll(async () => {
  await Promise.all(labs.map((l) => l.stop()));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("hagrade batch", () => {
  let out: string;
  let first: Awaited<ReturnType<typeof batch>>;
  beforeAll(async () => {
    out = join(work, "all");
    first = await batch(out);
  }, 400_000);

  it("grades every lab in parallel and marks the one whose VIP drops packets unreachable", () => {
    const byLab = new Map(first.entries.map((e) => [e.lab, e]));
    expect(first.entries).toHaveLength(VARIANTS.length);
    for (const [i] of VARIANTS.entries()) {
      const e = byLab.get(roster[i]!.lab)!;
      if (i === DROPPED) {
        expect(e.status).toBe("unreachable");
        expect(e.reason?.en).toMatch(/did not answer a TCP connection/);
      } else {
        expect(e.status, JSON.stringify(e.reason)).toBe("graded");
      }
    }
    // Each lab graded as its variant says (the batch changes nothing in a lab's own verdicts).
    expect(readResult(out, roster[0]!.lab).score).toBe(readResult(out, roster[0]!.lab).maxScore);
    const broken = readResult(out, roster[1]!.lab).checks.find((c) => c.id === "proxy.loadfactor")!;
    expect(broken.outcome).toBe("fail");
    expect(readResult(out, roster[3]!.lab).checks.find((c) => c.id === "net.ip-forward")!.outcome).toBe("fail");
  });

  it("writes a gradebook whose numbers are each lab's own result, with formulas defused", () => {
    const text = readFileSync(join(out, "class", "gradebook.csv"), "utf8");
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const rows = parseCsv(text, { columns: true, bom: true }) as Record<string, string>[];
    expect(rows.map((r) => r.id)).toEqual(roster.map((r) => r.id));
    expect(rows[0]!.name).toBe("Pérez, Ana");
    expect(rows[1]!.name!.startsWith("'=")).toBe(true);
    for (const row of rows) {
      const entry = first.entries.find((e) => e.student.id === row.id)!;
      if (entry.status !== "graded") {
        expect(row.score).toBe("");
        expect(row.status).toBe(entry.status);
        continue;
      }
      const result = readResult(out, entry.lab);
      expect(Number(row.score)).toBe(result.score);
      expect(Number(row.max_score)).toBe(result.maxScore);
      for (const c of result.checks.filter((c) => !c.notRequested)) expect(Number(row[c.id]), `${row.id} ${c.id}`).toBe(c.points);
    }
  });

  it("computes each check's pass rate across the class from the labs' results (item analysis)", () => {
    const graded = first.entries.filter((e) => e.status === "graded").map((e) => readResult(out, e.lab));
    const summary = JSON.parse(readFileSync(join(out, "class", "summary.json"), "utf8")) as ClassSummary;
    expect(summary.statusCounts).toMatchObject({ graded: VARIANTS.length - 1, unreachable: 1 });
    for (const item of summary.items) {
      const ran = graded.map((r) => r.checks.find((c) => c.id === item.id)).filter((c) => c && !c.notRequested);
      expect(item.graded).toBe(ran.length);
      expect(item.passRate).toBeCloseTo(ran.filter((c) => c!.outcome === "pass").length / ran.length, 3);
    }
    const loadfactor = summary.items.find((i) => i.id === "proxy.loadfactor")!;
    expect(loadfactor.passRate).toBeLessThan(1);
    const html = readFileSync(join(out, "class", "index.html"), "utf8");
    for (const e of first.entries.filter((e) => e.status === "graded")) expect(html).toContain(`href="../${e.lab}/scorecard.html"`);
    expect(html).not.toContain("<script");
  });

  it("writes a Gradescope results.json per lab and one class JUnit that the Jenkins schema accepts", async () => {
    for (const e of first.entries.filter((e) => e.status === "graded")) {
      const gs = JSON.parse(readFileSync(join(out, e.lab, "results.json"), "utf8")) as { score: number; tests: { score: number; max_score: number }[] };
      const result = readResult(out, e.lab);
      expect(gs.score).toBe(result.score);
      expect(gs.tests.reduce((a, t) => a + t.score, 0)).toBeCloseTo(result.score, 2);
      expect(gs.tests.reduce((a, t) => a + t.max_score, 0)).toBeCloseTo(result.maxScore, 2);
    }
    const junit = join(out, "class", "junit.xml");
    await run("xmllint", ["--noout", "--schema", XSD, junit]);
    const xml = readFileSync(junit, "utf8");
    expect(xml.match(/<testsuite /g)).toHaveLength(VARIANTS.length);
    expect(xml).toContain('name="hagrade.grade"');
  });

  it("skips labs already graded with the same spec on a re-run, and grades again the unreachable one", async () => {
    const again = await batch(out);
    for (const { entry, cached } of again.ends) expect(cached, entry.lab).toBe(entry.status === "graded");
    expect(again.ends.filter((e) => !e.cached).map((e) => e.entry.lab)).toEqual([roster[DROPPED]!.lab]);
    expect(again.summary).toEqual(first.summary);
  }, 120_000);

  it("gives the same class outputs from shards 1/3, 2/3, 3/3 merged as from one run", async () => {
    const shardDirs = [1, 2, 3].map((i) => join(work, `shard-${i}`));
    const sizes: number[] = [];
    for (const [i, dir] of shardDirs.entries()) {
      const r = await gradeBatch({ roster, template, outDir: dir, concurrency: 4, budgetMs: 180_000, lang: "en", part: "proxy", shard: { index: i + 1, total: 3 } });
      sizes.push(r.length);
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(roster.length);
    const merged = join(work, "merged");
    const { labs: count, problems } = await mergeShards(shardDirs, merged);
    expect(problems).toEqual([]);
    expect(count).toBe(roster.length);
    const { summary } = await writeClassOutputs(merged, "en");
    expect(summary).toEqual(first.summary);
    expect(readFileSync(join(merged, "class", "gradebook.csv"), "utf8")).toBe(readFileSync(join(out, "class", "gradebook.csv"), "utf8"));
  }, 400_000);

  it("re-grades saved results under a new rubric from the command line, without the lab", async () => {
    const rubric = join(work, "rubric.yaml");
    writeFileSync(rubric, "points:\n  proxy.loadfactor: 5\n  net.vip-http: 0\n");
    const regraded = join(work, "regraded");
    await run("npx", ["tsx", "src/bin.ts", "regrade", out, "--rubric", rubric, "--out", regraded, "--lang", "en"], { cwd: ROOT });
    for (const e of first.entries.filter((e) => e.status === "graded")) {
      const before = readResult(out, e.lab);
      const after = readResult(regraded, e.lab);
      const lf = before.checks.find((c) => c.id === "proxy.loadfactor")!;
      const vip = before.checks.find((c) => c.id === "net.vip-http")!;
      expect(after.maxScore).toBe(before.maxScore - lf.maxPoints + 5 - vip.maxPoints);
      expect(after.score).toBeCloseTo(before.score - lf.points + 5 * (lf.outcome === "pass" ? 1 : 0) - vip.points, 2);
    }
    const bad = join(work, "bad-rubric.yaml");
    writeFileSync(bad, "points:\n  proxy.loadfacto: 5\n");
    const failed = await run("npx", ["tsx", "src/bin.ts", "regrade", out, "--rubric", bad, "--lang", "en"], { cwd: ROOT }).catch((e: { code: number; stderr: string }) => e);
    expect((failed as { code: number }).code).toBe(2);
    expect((failed as { stderr: string }).stderr).toMatch(/Did you mean proxy\.loadfactor\?/);
  }, 120_000);
});

describe("a lab that holds every request", () => {
  it("is cut short by its budget (status timeout, partial result kept) while a lab beside it is graded", async () => {
    const held = labs[DROPPED]!;
    // The VIP now accepts, but the balancer's Apache can never reach its web servers: each request hangs.
    const r = await held.hostExec("balancer", `nft flush table inet hgdrop && nft add chain inet hgdrop out '{ type filter hook output priority -300; }' && nft add rule inet hgdrop out ip daddr ${held.spec.backends[0]!.address} drop && nft add rule inet hgdrop out ip daddr ${held.spec.backends[1]!.address} drop`);
    expect(r.code, r.stderr).toBe(0);
    const slow = { ...roster[DROPPED]!, index: 1, overrides: { ...roster[DROPPED]!.overrides, timeouts: { request: 60_000 } } };
    const out = join(work, "budget");
    const ends: LabEntry[] = [];
    await gradeBatch({ roster: [roster[0]!, slow], template, outDir: out, concurrency: 2, budgetMs: 15_000, lang: "en", part: "proxy", force: true, onLabEnd: (e) => ends.push(e) });
    const correct = ends.find((e) => e.lab === roster[0]!.lab)!;
    const timedOut = ends.find((e) => e.lab === slow.lab)!;
    expect(correct.status).toBe("graded");
    expect(correct.score).toBe(correct.maxScore);
    expect(timedOut.status).toBe("timeout");
    expect(timedOut.reason?.en).toMatch(/time ran out/);
    const partial = readResult(out, slow.lab);
    expect(partial.checks.some((c) => c.evidence.some((e) => e.kind === "budget"))).toBe(true);
    const { summary } = await writeClassOutputs(out, "en");
    expect(summary.statusCounts).toMatchObject({ graded: 1, timeout: 1 });
  }, 240_000);
});
