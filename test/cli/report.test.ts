/** `hagrade report` re-renders a saved result in every format without touching any lab. */
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../src/model/index.js";
import { brokenLab, passingLab, redact, vrrpLab } from "../report/results.js";
import { CLI, hagrade } from "./hagrade.js";
import { loopbackSpecFields, startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

/** XPath over a page as libxml2's HTML parser (an independent one) reads it. */
function xpath(file: string, expr: string): string {
  const r = spawnSync("xmllint", ["--html", "--xpath", expr, file], { encoding: "utf8" });
  if (!r.stdout) throw new Error(`xmllint --html --xpath ${expr}: ${r.stderr}`);
  return r.stdout.trim();
}

describe("hagrade report", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hagrade-report-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("turns a saved JSON result into HTML, JUnit and JSON again, in the language asked", async () => {
    const result = brokenLab();
    const saved = join(dir, "result.json");
    await writeFile(saved, redact(JSON.stringify(result)));
    const { code, stdout } = await hagrade(["report", saved, "--lang", "en", "--html", join(dir, "s.html"), "--junit", join(dir, "j.xml"), "--json", join(dir, "r.json")]);
    // The result holds a grader error: exit 3, as the run that produced it.
    expect(code).toBe(3);
    expect(stdout).toContain("s.html");
    const html = await readFile(join(dir, "s.html"), "utf8");
    for (const c of result.checks) expect(html).toContain(c.id);
    const xml = await readFile(join(dir, "j.xml"), "utf8");
    expect(xml).toContain("<testsuite");
    const again = JSON.parse(await readFile(join(dir, "r.json"), "utf8"));
    expect(again.checks.map((c: { id: string }) => c.id)).toEqual(result.checks.map((c) => c.id));
    expect(again.lang).toBe("en");
  });

  it("replays a saved run on the console, in Spanish, as plain lines when not on a terminal", async () => {
    const saved = join(dir, "vrrp.json");
    await writeFile(saved, JSON.stringify(vrrpLab(false)));
    const { code, stdout } = await hagrade(["report", saved, "--lang", "es"], ROOT, { ...process.env, FORCE_COLOR: "" });
    expect(code).toBe(1);
    expect(stdout.split("\n")[0]).toBe("hagrade · Evaluando practica-ha · parte 1 (keepalived + LVS)");
    expect(stdout).toContain("FALLIDA lvs.vrrp-failover (0/2)");
    expect(stdout).toContain("SUPERADA lvs.failover (2/2)");
    expect(stdout).toContain("Puntuación: 2/4");
    expect(stdout).not.toContain("\u001b");
    // The vrrp-failover re-rendered as a timeline with its outage, not a table of JSON.
    await hagrade(["report", saved, "--html", join(dir, "vrrp.html")]);
    const html = await readFile(join(dir, "vrrp.html"), "utf8");
    expect(html).toContain("ev-vrrp");
    expect(html).toContain("la VIP no volvió a servir");
    expect(html).not.toContain("ev-generic");
  });

  it("exits as run would for that result: 0 at or above --min-score (default every point), 1 below, 3 on a grader error", async () => {
    const saved = join(dir, "exit.json");
    const passing = passingLab();
    await writeFile(saved, JSON.stringify(passing));
    expect((await hagrade(["report", saved])).code).toBe(0);
    const partial = vrrpLab(false);
    await writeFile(saved, JSON.stringify(partial));
    const [byDefault, atScore, above, bad] = await Promise.all([
      hagrade(["report", saved]),
      hagrade(["report", saved, "--min-score", String(partial.score)]),
      hagrade(["report", saved, "--min-score", String(partial.score + 0.5)]),
      hagrade(["report", saved, "--min-score", "lots"]),
    ]);
    expect([byDefault.code, atScore.code, above.code, bad.code]).toEqual([1, 0, 1, 2]);
    expect(bad.stderr).toContain("--min-score");
    await writeFile(saved, JSON.stringify(brokenLab()));
    expect((await hagrade(["report", saved, "--min-score", "0"])).code).toBe(3);
  }, 120_000);

  it("writes a scorecard that opens on fix next and the overview, failures first, each row linked to its card, with only the counts that happened", async () => {
    // Results of real grades (the netns reference lab): keepalived stopped in Part 1, and the correct Part 2.
    const fixtures = join(ROOT, "test/report/fixtures/v1");
    const html = join(dir, "keepalived-stopped.html");
    const r = await hagrade(["report", join(fixtures, "lvs-keepalived-stopped.json"), "--html", html, "--lang", "en"]);
    expect(r.code, r.stderr).toBe(1);
    const result = JSON.parse(await readFile(join(fixtures, "lvs-keepalived-stopped.json"), "utf8")) as RunResult;
    expect(xpath(html, "count(//section[@id='fix-next'][following::section[@id='overview'][following::article[contains(@class,'card')]]])")).toBe("1");
    // Every check once in the overview, failures first, each row's link landing on its card.
    const rows = result.checks.map((_, i) => `//section[@id='overview']//tbody/tr[${i + 1}]`);
    const ids = rows.map((row) => xpath(html, `string(${row}/td[1]//code)`));
    expect([...ids].sort()).toEqual(result.checks.map((c) => c.id).sort());
    const rank = ["fail", "error", "inconclusive", "pass", "skipped"];
    const outcomes = ids.map((id) => result.checks.find((c) => c.id === id)!.outcome);
    expect(outcomes).toEqual([...outcomes].sort((a, b) => rank.indexOf(a) - rank.indexOf(b)));
    expect(outcomes.slice(0, 2)).toEqual(["fail", "fail"]);
    for (const [i, id] of ids.entries()) {
      expect(xpath(html, `string(${rows[i]}//a/@href)`)).toBe(`#check-${id}`);
      expect(xpath(html, `count(//article[@id='check-${id}'])`)).toBe("1");
    }
    // Fix next: the failed checks, linked; a filter per outcome that happened, plus "all"; no zero count.
    expect(xpath(html, "//section[@id='fix-next']//li//a/@href").split(/\s+/)).toEqual(['href="#check-net.vip-http"', 'href="#check-lvs.modules"']);
    expect(xpath(html, "count(//input[@name='show'])")).toBe("5");
    expect(xpath(html, "count(//header/ul[@class='counts']/li)")).toBe("4");
    expect(xpath(html, "string(//header/ul[@class='counts'])")).not.toMatch(/\b0 /);
    // Evidence as sentences and tables, never as a dump of the result's JSON.
    expect(xpath(html, "string(//article[@id='check-net.vip-http']//section[contains(@class,'ev-http-request')]/p[1])")).toBe("GET http://10.230.1.10:80/ → no HTTP answer: connect-refused");
    expect(xpath(html, "count(//*[contains(@class,'ev-generic')])")).toBe("0");

    const correct = join(dir, "correct.html");
    expect((await hagrade(["report", join(fixtures, "netns-correct.json"), "--html", correct, "--lang", "en"])).code).toBe(0);
    expect(xpath(correct, "string(//header/ul[@class='counts'])")).toBe("✔ 12 passed");
    expect(xpath(correct, "count(//input[@name='show'])")).toBe("2");
    expect(xpath(correct, "string(//article[@id='check-net.vip-http']//section[contains(@class,'ev-http-request')]/p[1])")).toMatch(/^GET http:\/\/10\.220\.1\.10:80\/ → 200, server webserver1 \(\d+ ms\)$/);
    expect(xpath(correct, "count(//*[contains(@class,'ev-generic')])")).toBe("0");
  }, 120_000);

  it("refuses a file that is not a hagrade result, with exit code 2", async () => {
    const bogus = join(dir, "bogus.json");
    await writeFile(bogus, JSON.stringify({ hello: "world" }));
    const failure = await run(process.execPath, [...CLI, "report", bogus], { cwd: ROOT }).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toMatch(/not a hagrade result/);
  });
});

describe("hagrade run", () => {
  let lab: LoopbackLab;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hagrade-run-"));
    lab = await startLoopbackLab(60);
  });
  afterAll(async () => {
    await lab?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("writes every file report once the engine ends the run, and prints their paths", async () => {
    const spec = join(dir, "lab.json");
    await writeFile(
      spec,
      JSON.stringify({
        lab: "loopback-cli",
        part: "proxy",
        ...loopbackSpecFields(lab.apache, [lab.ws1, lab.ws2]),
      }),
    );
    const out = join(dir, "reports");
    const { stdout } = await run(
      process.execPath,
      [...CLI, "run", "--spec", spec, "--only", "net.vip-http", "--lang", "en", "--out", out, "--journal-dir", join(dir, "journal")],
      { cwd: ROOT, timeout: 120_000 },
    );
    const files = ["result.json", "junit.xml", "scorecard.html"].map((f) => join(out, f));
    const written = stdout.split("\n").filter((l) => l.startsWith("Written: "));
    expect(written).toHaveLength(1);
    expect(written[0]!.slice("Written: ".length).split(", ").sort()).toEqual([...files].sort());
    // The console's summary (its run end) comes before the list of files.
    expect(stdout.indexOf("Score: 1/1")).toBeGreaterThan(-1);
    expect(stdout.indexOf("Score: 1/1")).toBeLessThan(stdout.indexOf("Written: "));
    const result = JSON.parse(await readFile(files[0]!, "utf8"));
    expect(result.checks.map((c: { id: string; outcome: string }) => [c.id, c.outcome])).toEqual([["net.vip-http", "pass"]]);
    expect(await readFile(files[1]!, "utf8")).toContain('name="net.vip-http"');
    expect(await readFile(files[2]!, "utf8")).toContain('id="check-net.vip-http"');
  });
});
