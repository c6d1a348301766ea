import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { junitReporter } from "../../src/report/junit.js";
import type { RunResult } from "../../src/runner/types.js";
import { SECRET, brokenLab, passingLab, redact, vrrpLab } from "./results.js";

const XSD = fileURLToPath(new URL("./fixtures/jenkins-junit.xsd", import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hagrade-junit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(result: RunResult, name: string, lang: "es" | "en" = "es"): Promise<string> {
  const path = join(dir, name);
  const written = await junitReporter(path, { lang, redact }).onEnd?.(result);
  expect(written).toEqual([path]);
  return path;
}

/** `xmllint --xpath` with the value of the expression, trimmed. */
function xpath(file: string, expr: string): string {
  const r = spawnSync("xmllint", ["--xpath", expr, file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`xmllint --xpath ${expr}: ${r.stderr}`);
  return r.stdout.trim();
}

function validate(file: string): { ok: boolean; stderr: string } {
  const r = spawnSync("xmllint", ["--noout", "--schema", XSD, file], { encoding: "utf8" });
  return { ok: r.status === 0, stderr: r.stderr };
}

describe("JUnit scorecard", () => {
  it("validates against the Jenkins JUnit schema, for a passing and a broken lab", async () => {
    for (const [name, result] of [["pass.xml", passingLab()], ["broken.xml", brokenLab()]] as const) {
      const file = await write(result, name);
      const v = validate(file);
      expect(v.stderr).toContain("validates");
      expect(v.ok).toBe(true);
    }
  });

  it("the schema check itself rejects what the schema forbids", async () => {
    // A <testsuites skipped=…> root (what the builder writes by default) is outside the schema.
    const file = await write(passingLab(), "bad.xml");
    const xml = await readFile(file, "utf8");
    const { writeFile } = await import("node:fs/promises");
    const bad = join(dir, "bad-root.xml");
    await writeFile(bad, xml.replace(/<testsuite /, '<testsuites skipped="0"><testsuite ').replace(/<\/testsuite>\s*$/, "</testsuite></testsuites>\n"));
    expect(validate(bad).ok).toBe(false);
  });

  it("has one testsuite per lab and one testcase per check, named and classed by student and part", async () => {
    const result = passingLab();
    const file = await write(result, "pass-shape.xml");
    expect(xpath(file, "string(/testsuite/@name)")).toBe("Ana García");
    expect(xpath(file, "count(/testsuite/testcase)")).toBe(String(result.checks.length));
    expect(xpath(file, "string(/testsuite/@tests)")).toBe(String(result.checks.length));
    expect(xpath(file, "string(/testsuite/@failures)")).toBe("0");
    expect(xpath(file, "string(/testsuite/testcase[@name='proxy.failover']/@classname)")).toBe("Ana García.proxy");
    expect(xpath(file, "string(/testsuite/testcase[@name='net.vip-http']/@classname)")).toBe("Ana García.net");
    expect(xpath(file, "string(/testsuite/testcase[@name='net.vip-http']/@time)")).toBe("1.234");
    expect(xpath(file, "string(/testsuite/properties/property[@name='score']/@value)")).toBe(String(result.score));
    expect(xpath(file, "string(/testsuite/properties/property[@name='maxScore']/@value)")).toBe(String(result.maxScore));
    expect(xpath(file, "string(/testsuite/properties/property[@name='proxy.loadfactor.points']/@value)")).toBe("2");
    for (const c of result.checks) {
      expect(xpath(file, `string(/testsuite/properties/property[@name='${c.id}.points']/@value)`)).toBe(String(c.points));
      expect(xpath(file, `string(/testsuite/properties/property[@name='${c.id}.maxPoints']/@value)`)).toBe(String(c.maxPoints));
    }
  });

  it("gives each check's points and maximum as properties, a failed check's maximum too", async () => {
    const result = brokenLab();
    const file = await write(result, "broken-points.xml", "en");
    const failed = result.checks.find((c) => c.outcome === "fail" && c.maxPoints > 0)!;
    expect(xpath(file, `string(/testsuite/properties/property[@name='${failed.id}.points']/@value)`)).toBe("0");
    expect(xpath(file, `string(/testsuite/properties/property[@name='${failed.id}.maxPoints']/@value)`)).toBe(String(failed.maxPoints));
    expect(xpath(file, "count(/testsuite/properties/property[contains(@name,'.maxPoints')])")).toBe(String(result.checks.length));
  });

  it("sums up a VRRP failover in one line, like the other failovers, in the chosen language", async () => {
    const en = await write(vrrpLab(false), "vrrp-en.xml", "en");
    expect(validate(en).ok).toBe(true);
    const failure = xpath(en, "string(/testsuite/testcase[@name='lvs.vrrp-failover']/failure)");
    expect(failure).toContain("10.0.0.2 → 10.0.0.3 (VIP 10.0.0.10): the VIP did not serve again; 40 failed requests");
    expect(failure).not.toContain("vrrp-failover: {");
    const served = vrrpLab(true);
    served.checks[0] = { ...served.checks[0]!, outcome: "fail", points: 0, fix: { es: "-", en: "-" } };
    const es = await write(served, "vrrp-es.xml", "es");
    expect(xpath(es, "string(/testsuite/testcase[@name='lvs.vrrp-failover']/failure)")).toContain("10.0.0.2 → 10.0.0.3 (VIP 10.0.0.10): la VIP volvió a servir a los 3,8 s; 38 peticiones fallidas");
  });

  it("maps fail to failure, inconclusive to a failure of type inconclusive, error (the grader's own) to error and skipped to skipped with its reason", async () => {
    const result = brokenLab();
    const file = await write(result, "broken-shape.xml", "en");
    expect(xpath(file, "string(/testsuite/@failures)")).toBe("3");
    expect(xpath(file, "string(/testsuite/@errors)")).toBe("1");
    expect(xpath(file, "string(/testsuite/@skipped)")).toBe("1");
    const failure = xpath(file, "string(/testsuite/testcase[@name='proxy.failover']/failure/@message)");
    expect(failure).toContain("With webserver1 stopped, the VIP failed 7 of 20 requests.");
    const failureText = xpath(file, "string(/testsuite/testcase[@name='proxy.failover']/failure)");
    expect(failureText).toContain("How to fix it: Check that webserver2 is in the balancer.");
    expect(failureText).toContain("webserver1: 7 failed requests");
    expect(xpath(file, "string(/testsuite/testcase[@name='proxy.loadfactor']/failure/@type)")).toBe("inconclusive");
    expect(xpath(file, "count(/testsuite/testcase[@name='proxy.loadfactor']/error)")).toBe("0");
    expect(xpath(file, "string(/testsuite/testcase[@name='proxy.loadfactor']/failure)")).toContain("Raise sampling.maxRequests.");
    expect(xpath(file, "string(/testsuite/testcase[@name='proxy.failover']/failure/@type)")).toBe("fail");
    expect(xpath(file, "string(/testsuite/testcase[@name='proxy.modules']/error/@type)")).toBe("error");
    expect(xpath(file, "string(/testsuite/testcase[@name='proxy.routeid-cookie']/skipped/@message)")).toContain(
      "Skipped: depends on net.vip-http, which failed.",
    );
    expect(xpath(file, "count(/testsuite/testcase[@name='net.vip-http']/failure)")).toBe("1");
  });

  it("writes the messages in the chosen language", async () => {
    const file = await write(brokenLab(), "broken-es.xml", "es");
    expect(xpath(file, "string(/testsuite/testcase[@name='proxy.failover']/failure/@message)")).toContain("Al parar webserver1");
    expect(xpath(file, "string(/testsuite/testcase[@name='proxy.failover']/failure)")).toContain("Cómo arreglarlo");
  });

  it("keeps hostile text as text and never writes a registered secret", async () => {
    const file = await write(brokenLab(), "broken-hostile.xml", "en");
    const xml = await readFile(file, "utf8");
    expect(xml).not.toContain(SECRET);
    expect(xpath(file, "string(/testsuite/@name)")).toBe(`Luis <b>Pérez</b> & "Co"`);
    expect(xpath(file, "string(/testsuite/testcase[@name='net.vip-http']/failure/@message)")).toContain("<script>alert(1)</script>");
    expect(xpath(file, "count(//script)")).toBe("0");
  });
});

describe("JUnit scorecard read back by an independent parser (junit2json)", () => {
  it("gives the same checks, outcomes and skip reasons a CI system would show", async () => {
    const { parse } = await import("junit2json");
    const result = brokenLab();
    const file = await write(result, "readback.xml", "en");
    const parsed = (await parse(await readFile(file, "utf8"))) as { testcase?: { name?: string; failure?: unknown[]; error?: unknown[]; skipped?: { message?: string }[] }[] };
    const cases = parsed.testcase ?? [];
    expect(cases.map((c) => c.name)).toEqual(result.checks.map((c) => c.id));
    for (const check of result.checks) {
      const tc = cases.find((c) => c.name === check.id)!;
      if (check.outcome === "fail" || check.outcome === "inconclusive") expect([tc.failure?.length, tc.error], check.id).toEqual([1, undefined]);
      if (check.outcome === "error") expect([tc.error?.length, tc.failure], check.id).toEqual([1, undefined]);
      if (check.outcome === "skipped") expect(tc.skipped?.[0]?.message, check.id).toContain(check.message.en);
      if (check.outcome === "pass") expect(tc.failure ?? tc.error ?? tc.skipped, check.id).toBeUndefined();
    }
  });
});
