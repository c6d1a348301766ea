/**
 * Results saved before typed evidence (test/report/fixtures/v1: real grades of the reference labs;
 * v0: a result of hagrade 0.1.0 as of 2026-11-26)
 * still render in every format: their evidence is read into today's kinds (no item left as
 * `legacy`), and no page or log shows "undefined", "[object Object]" or a raw JSON dump.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { readResult } from "../../src/cli/report.js";
import { isKnownEvidence, upgradeRunResult, type Evidence, type Lang, type RunResult } from "../../src/model/index.js";
import { checkEvidenceLines, evidenceLines } from "../../src/report/evidence-text.js";
import { consoleReporter } from "../../src/report/console.js";
import { renderGradescope } from "../../src/report/gradescope.js";
import { renderHtml } from "../../src/report/html.js";
import { renderJunit } from "../../src/report/junit.js";
import { escapeMarkdown, renderMarkdown } from "../../src/report/markdown.js";
import { renderTap } from "../../src/report/tap.js";

const fixtures = join(import.meta.dirname, "fixtures");
/** Every saved result, as `<version folder>/<file>`. */
const FILES = ["v1", "v0"].flatMap((v) =>
  readdirSync(join(fixtures, v))
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => `${v}/${f}`),
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hagrade-old-results-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(name: string): Promise<RunResult> {
  return readResult(join(fixtures, name));
}

function xpath(file: string, expr: string, html = true): string {
  const r = spawnSync("xmllint", [...(html ? ["--html"] : []), "--xpath", expr, file], { encoding: "utf8" });
  if (!r.stdout) throw new Error(`xmllint --xpath ${expr}: ${r.stderr}`);
  return r.stdout.trim();
}

async function renderBoth(result: RunResult, name: string, lang: Lang): Promise<{ html: string; htmlFile: string; junit: string; junitFile: string }> {
  const html = renderHtml(result, { lang });
  const junit = renderJunit(result, { lang });
  const htmlFile = join(dir, `${name.replace("/", "-")}.${lang}.html`);
  const junitFile = join(dir, `${name.replace("/", "-")}.${lang}.xml`);
  await writeFile(htmlFile, html);
  await writeFile(junitFile, junit);
  return { html, htmlFile, junit, junitFile };
}

/** Every text format of a result: TAP, Markdown, Gradescope's results.json and the console (a CI log). */
function renderText(result: RunResult, lang: Lang): { tap: string; markdown: string; gradescope: string; console: string } {
  let log = "";
  const c = consoleReporter(lang, { isTTY: false, write: (s: string) => (log += s) }, {});
  c.onBegin?.({ lab: result.lab, part: result.part, lang, checks: result.checks.map((k) => ({ id: k.id, title: k.title })), startedAt: result.startedAt });
  for (const check of result.checks) c.onCheckEnd?.(check);
  void c.onEnd?.(result);
  return { tap: renderTap(result, { lang }), markdown: renderMarkdown(result, { lang }), gradescope: JSON.stringify(renderGradescope(result, { lang })), console: log };
}

/** The YAML block of each `not ok` test point of a TAP document, by check id. */
function tapDiagnostics(tap: string): Map<string, { evidence?: string[] }> {
  const out = new Map<string, { evidence?: string[] }>();
  for (const m of tap.matchAll(/^not ok \d+ - (\S+) - .*\n {2}---\n([\s\S]*?)\n {2}\.\.\.$/gm)) {
    out.set(m[1]!, parseYaml(m[2]!.replace(/^ {2}/gm, "")) as { evidence?: string[] });
  }
  return out;
}

const evidenceOf = (result: RunResult, id: string): Evidence[] => result.checks.find((c) => c.id === id)?.evidence ?? [];

describe("results saved before typed evidence", () => {
  it("are the real grades of both reference labs, in version 1 shapes", async () => {
    expect(FILES.filter((f) => f.startsWith("v1/")).length).toBeGreaterThanOrEqual(10);
    const raw = JSON.parse(await readFile(join(fixtures, "v1", "netns-correct.json"), "utf8")) as RunResult;
    expect(raw.evidenceVersion).toBeUndefined();
    // net.vip-http kept the raw fetch result; proxy.routeid-cookie one item per client.
    expect(Object.keys(evidenceOf(raw, "net.vip-http")[0]!)).toContain("result");
    expect(evidenceOf(raw, "proxy.routeid-cookie").length).toBeGreaterThan(1);
    expect(FILES.some((f) => f.startsWith("v1/lvs-"))).toBe(true);
  });

  it("include a result of hagrade 0.1.0 (2026-11-26), whose net.vip-http kept the raw fetch result", async () => {
    const raw = JSON.parse(await readFile(join(fixtures, "v0", "loopback-0155e02.json"), "utf8")) as RunResult;
    expect(raw.evidenceVersion).toBeUndefined();
    expect(Object.keys(evidenceOf(raw, "net.vip-http")[0]!)).toEqual(["kind", "url", "result"]);
    const result = await load("v0/loopback-0155e02.json");
    const [request] = evidenceOf(result, "net.vip-http");
    expect(request).toMatchObject({ kind: "http-request", ok: false, attempts: 3, error: { class: "headers-timeout" } });
    expect(evidenceLines(request!, "en")).toEqual([expect.stringMatching(/^GET http:\/\/127\.0\.0\.236:\d+\/ → no HTTP answer: headers-timeout \(no complete response headers within 5000 ms\)$/)]);
    expect(evidenceLines(request!, "es")[0]).toMatch(/^GET http:\/\/127\.0\.0\.236:\d+\/ → sin respuesta HTTP: headers-timeout/);
  });

  it.each(FILES)("%s: every evidence item is read into a kind of today", async (name) => {
    const result = await load(name);
    expect(result.evidenceVersion).toBe(2);
    for (const c of result.checks) {
      for (const e of c.evidence) {
        expect(isKnownEvidence(e), `${c.id}: ${JSON.stringify(e).slice(0, 200)}`).toBe(true);
        expect(e.kind, `${c.id} kept nothing as legacy`).not.toBe("legacy");
      }
    }
    // Reading is stable: an upgraded result reads the same again.
    expect(upgradeRunResult(result)).toEqual(result);
  });

  it.each(FILES.flatMap((f) => (["es", "en"] as const).map((lang) => [f, lang] as const)))("%s renders in HTML, JUnit, text and JSON (%s) with nothing undrawn", async (name, lang) => {
    const result = await load(name);
    const { html, junit } = await renderBoth(result, name, lang);
    const lines = result.checks.flatMap((c) => c.evidence.flatMap((e) => evidenceLines(e, lang)));
    const json = JSON.stringify(result);
    for (const [format, text] of [["html", html], ["junit", junit], ["text", lines.join("\n")], ["json", json]] as const) {
      expect(text, format).not.toMatch(/\bundefined\b/);
      expect(text, format).not.toContain("[object Object]");
      expect(text, format).not.toMatch(/\bNaN\b/);
    }
    // No raw JSON dump: every kind has its own drawing (what a command printed is shown as it came:
    // `nft -j` and `ip -j` print JSON themselves).
    const drawn = html.replace(/<section class="ev ev-ssh-commands?">.*?<\/section>/gs, "");
    expect(drawn).not.toContain("{&quot;");
    expect(drawn).not.toContain("[{&quot;");
    expect(html).not.toContain("ev-legacy");
    expect(lines.join("\n")).not.toContain('{"');
    expect(JSON.parse(json)).toEqual(result);
    // TAP, Markdown, Gradescope and the console: the same lines, from the same renderer per kind.
    const text = renderText(result, lang);
    for (const [format, out] of Object.entries(text)) {
      expect(out, format).not.toMatch(/\bundefined\b/);
      expect(out, format).not.toContain("[object Object]");
      expect(out, format).not.toMatch(/\bNaN\b/);
    }
    const diagnostics = tapDiagnostics(text.tap);
    const gradescope = JSON.parse(text.gradescope) as { tests: { name: string; output: string }[] };
    let shown = 0;
    for (const c of result.checks) {
      if (c.outcome === "pass" || c.outcome === "skipped") {
        expect(diagnostics.has(c.id), c.id).toBe(false);
        continue;
      }
      // The first lines, those no format cuts, appear whole in each.
      const whole = checkEvidenceLines(c, lang, { maxLines: 6, maxChars: Infinity }).filter((l) => l.length <= 200 && !l.startsWith("… "));
      expect(diagnostics.get(c.id)?.evidence ?? [], c.id).toEqual(expect.arrayContaining(whole));
      for (const line of whole) {
        expect(text.markdown, c.id).toContain(`- ${escapeMarkdown(line)}`);
        expect(text.console, c.id).toContain(`    · ${line}\n`);
        expect(gradescope.tests.find((t) => t.name.startsWith(`${c.id} `))?.output, c.id).toContain(`  ${line}`);
        shown++;
      }
    }
    if (result.checks.some((c) => c.outcome !== "pass" && c.outcome !== "skipped" && c.evidence.length > 0)) expect(shown).toBeGreaterThan(0);
    // One section per evidence item, each under its check's card.
    for (const c of result.checks) {
      expect(html.split(`id="check-${c.id}"`).length, c.id).toBe(2);
    }
    expect((html.match(/<section class="ev /g) ?? []).length).toBe(result.checks.reduce((n, c) => n + c.evidence.length, 0));
  });
});

describe("what a teacher reads in an old result", () => {
  it("net.vip-http shows the URL, the status and the server that answered", async () => {
    const result = await load("v1/netns-correct.json");
    const { htmlFile } = await renderBoth(result, "vip", "en");
    const section = xpath(htmlFile, "string(//article[@id='check-net.vip-http']//section[contains(@class,'ev-http-request')]/p[1])");
    expect(section).toMatch(/^GET http:\/\/10\.220\.\d+\.10:80\/ → 200, server webserver[12] \(\d+(\.\d+)? ms\)$/);
    expect(evidenceLines(evidenceOf(result, "net.vip-http")[0]!, "es")[0]).toMatch(/^GET http:\/\/10\.220\.\d+\.10:80\/ → 200, servidor webserver[12] /);
  });

  it("a refused VIP says so in the JUnit failure, with the URL; the skipped checks name their dependency", async () => {
    const result = await load("v1/netns-vip-refused.json");
    const { junitFile, htmlFile } = await renderBoth(result, "refused", "en");
    const failure = xpath(junitFile, "string(//testcase[@name='net.vip-http']/failure)", false);
    expect(failure).toMatch(/GET http:\/\/10\.220\.\d+\.10:8081\/ → no HTTP answer: connect-refused/);
    expect(xpath(htmlFile, "string(//article[@id='check-proxy.sticky']//section[contains(@class,'ev-dependency')]//a/@href)")).toBe("#check-net.vip-http");
  });

  it("proxy.routeid-cookie's clients are one table, a row per client with its route", async () => {
    const raw = JSON.parse(await readFile(join(fixtures, "v1", "netns-correct.json"), "utf8")) as RunResult;
    const clients = evidenceOf(raw, "proxy.routeid-cookie").length;
    const result = await load("v1/netns-correct.json");
    expect(evidenceOf(result, "proxy.routeid-cookie").map((e) => e.kind)).toEqual(["cookie-trace"]);
    const { htmlFile } = await renderBoth(result, "cookies", "es");
    const table = "//article[@id='check-proxy.routeid-cookie']//section[contains(@class,'ev-cookie-trace')]//table";
    expect(xpath(htmlFile, `count(${table}/tbody/tr)`)).toBe(String(clients));
    expect(xpath(htmlFile, `string(${table}/thead)`)).toBe("ClienteEstadoServidorSet-CookieRuta");
    expect(xpath(htmlFile, `string(${table}/tbody/tr[1]/td[5])`)).toMatch(/^wsrv[12]$/);
  });

  it("the gateways are a table that marks the wrong one, and the NAT says which servers it leaves out", async () => {
    const gateway = await load("v1/netns-wrong-gateway.json");
    const g = await renderBoth(gateway, "gateway", "en");
    const rows = "//article[@id='check-net.gateway']//section[contains(@class,'ev-default-routes')]//tbody/tr";
    expect(xpath(g.htmlFile, `count(${rows})`)).toBe("2");
    expect(xpath(g.htmlFile, `string(${rows}[td[1]='webserver2']/td[2])`)).toBe("10.221.1.254");
    expect(xpath(g.htmlFile, `string(${rows}[td[1]='webserver2']/td[3])`)).toBe("✘");
    expect(xpath(g.htmlFile, `string(${rows}[td[1]='webserver1']/td[3])`)).toBe("✔");
    expect(xpath(g.junitFile, "string(//testcase[@name='net.gateway']/failure)", false)).toContain("expected gateway 10.221.1.1; webserver1: 10.221.1.1 ✓, webserver2: 10.221.1.254 ✗");

    const nat = await load("v1/netns-nat-missing.json");
    const n = await renderBoth(nat, "nat", "en");
    const failure = xpath(n.junitFile, "string(//testcase[@name='net.nat']/failure)", false);
    expect(failure).toContain("NAT rules (masquerade / SNAT): no NAT rule");
    expect(failure).toContain("web servers no rule covers: webserver1, webserver2");
    expect(failure).toMatch(/webserver1: arrived from 10\.221\.1\.11 \(NOT through the NAT\)/);
  });

  it("the NAT's evidence is sentences in TAP, Markdown, Gradescope and the console, in Spanish and English", async () => {
    const nat = await load("v1/netns-nat-missing.json");
    const expected = {
      en: ["NAT rules (masquerade / SNAT): no NAT rule", "web servers no rule covers: webserver1, webserver2", "webserver1: arrived from 10.221.1.11 (NOT through the NAT)"],
      es: ["Reglas de NAT (masquerade / SNAT): ninguna regla de NAT", "servidores web que ninguna regla cubre: webserver1, webserver2", "webserver1: llegó desde 10.221.1.11 (SIN pasar por el NAT)"],
    } as const;
    for (const lang of ["en", "es"] as const) {
      const text = renderText(nat, lang);
      expect(tapDiagnostics(text.tap).get("net.nat")?.evidence?.slice(0, 2)).toEqual(expected[lang].slice(0, 2));
      for (const line of expected[lang]) {
        expect(text.markdown).toContain(`- ${escapeMarkdown(line)}`);
        expect(text.console).toContain(`    · ${line}\n`);
        expect(text.gradescope).toContain(line);
      }
    }
  });

  it("a server that gave no page of its own says so, in both languages", async () => {
    const result = await load("v1/netns-single-server-cheat.json");
    const own = evidenceOf(result, "net.two-backends").find((e) => e.kind === "own-pages")!;
    expect(evidenceLines(own, "en")).toEqual(["webserver2 (10.221.1.12) gave no page when asked directly"]);
    expect(evidenceLines(own, "es")).toEqual(["webserver2 (10.221.1.12) no dio ninguna página al pedírsela directamente"]);
    const { htmlFile } = await renderBoth(result, "own-pages", "es");
    expect(xpath(htmlFile, "string(//article[@id='check-net.two-backends']//section[contains(@class,'ev-own-pages')]//tbody/tr[1]/td[3])")).toBe("no dio ninguna página al pedírsela directamente");
  });

  it("an SSH error written under the error's own kind is an SSH error again", async () => {
    const raw = JSON.parse(await readFile(join(fixtures, "v1", "netns-ssh-refused.json"), "utf8")) as RunResult;
    expect(raw.checks.flatMap((c) => c.evidence).some((e) => e.kind === ("refused" as string))).toBe(true);
    const result = await load("v1/netns-ssh-refused.json");
    const skipped = result.checks.find((c) => c.evidence.some((e) => e.kind === "ssh-error"))!;
    const { htmlFile } = await renderBoth(result, "ssh", "en");
    expect(xpath(htmlFile, `string(//article[@id='check-${skipped.id}']//section[contains(@class,'ev-ssh-error')]/p[1])`)).toMatch(
      /^SSH to balancer \(root@10\.220\.\d+\.1:2222\): .*refused the TCP connection/,
    );
  });

  it("Part 1: the IPVS service, the kernel modules and the failover timeline are drawn", async () => {
    const result = await load("v1/lvs-rr.json");
    const { htmlFile } = await renderBoth(result, "lvs", "en");
    expect(xpath(htmlFile, "string(//article[@id='check-lvs.virtual-server']//section[contains(@class,'ev-ipvs-service')]/pre)")).toMatch(/^TCP\s+\S+:80 rr/);
    expect(xpath(htmlFile, "count(//article[@id='check-lvs.modules']//section[contains(@class,'ev-kernel-modules')]//tbody/tr)")).not.toBe("0");
    const failover = evidenceOf(result, "lvs.failover").find((e) => e.kind === "failover");
    expect(failover?.kind).toBe("failover");
    if (failover?.kind === "failover") {
      expect(xpath(htmlFile, "count(//article[@id='check-lvs.failover']//*[local-name()='svg'][contains(@class,'timeline')]/*[local-name()='circle' or (local-name()='rect' and not(@class))])")).toBe(String(failover.timeline.length));
    }
  });
});
