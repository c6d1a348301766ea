/**
 * The evidence of a real grade (a real Apache 2.4 balancer over two HTTP servers on loopback) as
 * a teacher reads it on the page and in the CI log: what each kind's renderer shows.
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunResult } from "../../src/model/index.js";
import { evidenceLines } from "../../src/report/evidence-text.js";
import { renderHtml } from "../../src/report/html.js";
import { renderJunit } from "../../src/report/junit.js";
import { gradeLab } from "../../src/runner/grade.js";
import { gradeOptions } from "../helpers/grade.js";
import { loopbackSpec, startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";
import { startApacheBalancer, startWebServer } from "../probe/servers.js";

let dir: string;
let lab: LoopbackLab;
let passing: RunResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hagrade-evidence-views-"));
  lab = await startLoopbackLab(210);
  passing = await gradeLab(
    await loopbackSpec(lab.apache, [lab.ws1, lab.ws2]),
    gradeOptions({ journalDir: dir, only: ["net.vip-http", "net.two-backends", "proxy.routeid-cookie", "proxy.sticky"] }),
  );
});
afterAll(async () => {
  await lab?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function files(result: RunResult, name: string): Promise<{ html: string; junit: string }> {
  const html = join(dir, `${name}.html`);
  const junit = join(dir, `${name}.xml`);
  await writeFile(html, renderHtml(result, { lang: "en" }));
  await writeFile(junit, renderJunit(result, { lang: "en" }));
  return { html, junit };
}

function xpath(file: string, expr: string, html = true): string {
  const r = spawnSync("xmllint", [...(html ? ["--html"] : []), "--xpath", expr, file], { encoding: "utf8" });
  if (!r.stdout) throw new Error(`xmllint --xpath ${expr}: ${r.stderr}`);
  return r.stdout.trim();
}

describe("evidence of a real grade", () => {
  it("is written with its version, each item of a kind of today", () => {
    expect(passing.evidenceVersion).toBe(2);
    expect(passing.checks.map((c) => [c.id, c.outcome])).toEqual([
      ["net.vip-http", "pass"],
      ["net.two-backends", "pass"],
      ["proxy.routeid-cookie", "pass"],
      ["proxy.sticky", "pass"],
    ]);
  });

  it("net.vip-http shows the URL, the status and the server that answered, on the page and as text", async () => {
    const { html } = await files(passing, "pass");
    const url = `http://${lab.apache.address}:${lab.apache.port}/`;
    const shown = xpath(html, "string(//article[@id='check-net.vip-http']//section[contains(@class,'ev-http-request')]/p[1])");
    expect(shown).toMatch(new RegExp(`^GET ${url.replace(/[.]/g, "\\.")} → 200, server webserver[12] \\(\\d`));
    const vip = passing.checks.find((c) => c.id === "net.vip-http")!.evidence[0]!;
    expect(evidenceLines(vip, "en")[0]).toMatch(new RegExp(`^GET ${url.replace(/[.]/g, "\\.")} → 200, server webserver[12] \\(`));
    expect(evidenceLines(vip, "es")[0]).toMatch(/→ 200, servidor webserver[12] \(/);
    // The page it answered, behind a disclosure.
    expect(xpath(html, "string(//article[@id='check-net.vip-http']//details[summary='Page excerpt']/pre)")).toMatch(/webserver[12]/);
  });

  it("a VIP that answers 503 is a JUnit failure naming the URL and the status", async () => {
    const down1 = await startWebServer("1", { address: "127.0.0.214" });
    const down2 = await startWebServer("2", { address: "127.0.0.215" });
    const apache = await startApacheBalancer([down1, down2], "127.0.0.213");
    await Promise.all([down1.close(), down2.close()]);
    try {
      const result = await gradeLab(await loopbackSpec(apache, [down1, down2]), gradeOptions({ journalDir: dir, only: ["net.vip-http"] }));
      const { junit, html } = await files(result, "503");
      const failure = xpath(junit, "string(//testcase[@name='net.vip-http']/failure)", false);
      expect(failure).toContain(`GET http://127.0.0.213:${apache.port}/ → 503`);
      expect(xpath(html, "string(//article[@id='check-net.vip-http']//section[contains(@class,'ev-http-request')]/p[1])")).toMatch(new RegExp(`^GET http://127\\.0\\.0\\.213:${apache.port}/ → 503\\b`));
    } finally {
      await apache.stop();
    }
  });

  it("proxy.routeid-cookie's clients are a table: status, server, Set-Cookie and route of each", async () => {
    const { html } = await files(passing, "cookies");
    const evidence = passing.checks.find((c) => c.id === "proxy.routeid-cookie")!.evidence;
    expect(evidence.map((e) => e.kind)).toEqual(["cookie-trace"]);
    const rows = evidence[0]!.kind === "cookie-trace" ? evidence[0]!.rows : [];
    const table = "//article[@id='check-proxy.routeid-cookie']//section[contains(@class,'ev-cookie-trace')]//tbody/tr";
    expect(xpath(html, `count(${table})`)).toBe(String(rows.length));
    for (let i = 1; i <= rows.length; i++) {
      const server = xpath(html, `string(${table}[${i}]/td[3])`);
      expect(server).toMatch(/^webserver[12]$/);
      expect(xpath(html, `string(${table}[${i}]/td[2])`)).toBe("200");
      expect(xpath(html, `string(${table}[${i}]/td[5])`)).toBe(server === "webserver1" ? "wsrv1" : "wsrv2");
    }
  });

  it("shows nothing undrawn: no undefined, no [object Object], no JSON of ours", async () => {
    const { html, junit } = await files(passing, "clean");
    for (const file of [html, junit]) {
      const text = spawnSync("cat", [file], { encoding: "utf8" }).stdout;
      expect(text).not.toMatch(/\bundefined\b|\[object Object\]|\{&quot;|\bNaN\b/);
    }
    const lines = passing.checks.flatMap((c) => c.evidence.flatMap((e) => evidenceLines(e, "en")));
    expect(lines.join("\n")).not.toMatch(/\bundefined\b|\[object Object\]|\{"/);
  });
});
