/** `hagrade report` re-renders a saved result in every format without touching any lab. */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { brokenLab, redact } from "../report/results.js";

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
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", join(ROOT, "src/bin.ts"), "report", saved, "--lang", "en", "--html", join(dir, "s.html"), "--junit", join(dir, "j.xml"), "--json", join(dir, "r.json")],
      { cwd: ROOT, timeout: 60_000 },
    );
    expect(stdout).toContain("s.html");
    const html = await readFile(join(dir, "s.html"), "utf8");
    for (const c of result.checks) expect(html).toContain(c.id);
    const xml = await readFile(join(dir, "j.xml"), "utf8");
    expect(xml).toContain("<testsuite");
    const again = JSON.parse(await readFile(join(dir, "r.json"), "utf8"));
    expect(again.checks.map((c: { id: string }) => c.id)).toEqual(result.checks.map((c) => c.id));
    expect(again.lang).toBe("en");
  });

  it("refuses a file that is not a hagrade result, with exit code 2", async () => {
    const bogus = join(dir, "bogus.json");
    await writeFile(bogus, JSON.stringify({ hello: "world" }));
    const failure = await run(process.execPath, ["--import", "tsx", join(ROOT, "src/bin.ts"), "report", bogus], { cwd: ROOT }).catch((e) => e);
    expect(failure.code).toBe(2);
    expect(failure.stderr).toMatch(/not a hagrade result/);
  });
});
