/** `hagrade report` re-renders a saved result in every format without touching any lab. */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokenLab, passingLab, redact, vrrpLab } from "../report/results.js";
import { hagrade } from "./hagrade.js";
import { loopbackSpecFields, startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

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

  it("refuses a file that is not a hagrade result, with exit code 2", async () => {
    const bogus = join(dir, "bogus.json");
    await writeFile(bogus, JSON.stringify({ hello: "world" }));
    const failure = await run(process.execPath, ["--import", "tsx", join(ROOT, "src/bin.ts"), "report", bogus], { cwd: ROOT }).catch((e) => e);
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
      ["--import", "tsx", join(ROOT, "src/bin.ts"), "run", "--spec", spec, "--only", "net.vip-http", "--lang", "en", "--out", out, "--journal-dir", join(dir, "journal")],
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
