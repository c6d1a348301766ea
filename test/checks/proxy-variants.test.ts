/**
 * Every Part 2 check on the real reference lab and on each broken variant: the correct lab
 * passes everything, and each variant fails exactly what its fault breaks (variants.json),
 * with a message in both languages that says what to fix. Failover (disruptive) has its own file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listVariants, referenceCheckIds, startLab, type Lab } from "../../fixtures/netns/index.js";
import type { RunResult } from "../../src/runner/types.js";
import { gradeSpecFile } from "../helpers/grade.js";

/** Every Part 2 id but the disruptive failover. */
const NON_DISRUPTIVE: string[] = referenceCheckIds.filter((id) => id !== "proxy.failover");
const PARALLEL_LABS = 5;

const variants = listVariants();
const labs = new Map<string, Lab>();
const results = new Map<string, RunResult>();

function grade(lab: Lab): Promise<RunResult> {
  return gradeSpecFile(lab.specPath, { lang: "es", part: "proxy", journalDir: `${lab.stateDir}/journal`, only: NON_DISRUPTIVE });
}

beforeAll(async () => {
  // Up and graded a few at a time: each lab is its own namespaces and VIP, so they cannot disturb each other.
  // Every worker runs to the end even if another failed, so no lab is left behind.
  const queue = [...variants];
  const workers = await Promise.allSettled(
    Array.from({ length: PARALLEL_LABS }, async () => {
      for (let v = queue.shift(); v; v = queue.shift()) {
        const lab = await startLab({ variant: v.name });
        labs.set(v.name, lab);
        try {
          results.set(v.name, await grade(lab));
        } finally {
          await lab.stop();
        }
      }
    }),
  );
  const failed = workers.find((w): w is PromiseRejectedResult => w.status === "rejected");
  if (failed) throw failed.reason;
}, 600_000);

afterAll(async () => {
  await Promise.all([...labs.values()].map((l) => l.stop()));
});

describe.each(variants.map((v) => [v.name, v] as const))("variant %s", (name, variant) => {
  it("gives each check the outcome the variant's fault calls for", () => {
    const result = results.get(name)!;
    const outcome = Object.fromEntries(result.checks.map((c) => [c.id, c]));
    const summary = result.checks.map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`).join("\n");
    for (const id of variant.expect.pass.filter((i) => NON_DISRUPTIVE.includes(i))) {
      expect(outcome[id]?.outcome, `${id} should pass\n${summary}`).toBe("pass");
    }
    for (const id of variant.expect.fail.filter((i) => NON_DISRUPTIVE.includes(i))) {
      const check = outcome[id];
      // Skipped counts as "not passed" only when a check it depends on did not pass; any other skip hides the fault.
      const skippedByDependency =
        check?.outcome === "skipped" &&
        check.evidence.some((e) => e.kind === "dependency" && outcome[String(e.dependsOn)] !== undefined && outcome[String(e.dependsOn)]?.outcome !== "pass");
      if (!skippedByDependency) expect(check?.outcome, `${id} should fail\n${summary}`).toBe("fail");
    }
  });

  it("says what was wrong and how to fix it, in Spanish and English", () => {
    const result = results.get(name)!;
    for (const c of result.checks.filter((c) => c.outcome === "fail")) {
      expect(c.message.es.length, c.id).toBeGreaterThan(10);
      expect(c.message.en.length, c.id).toBeGreaterThan(10);
      expect(c.message.es, c.id).not.toEqual(c.message.en);
      expect(c.fix?.es.length ?? 0, `${c.id} has a fix`).toBeGreaterThan(10);
      expect(c.fix?.en.length ?? 0, `${c.id} has a fix`).toBeGreaterThan(10);
    }
    if (variant.expect.fail.length === 0) expect(result.score).toBe(result.maxScore);
    else expect(result.score).toBeLessThan(result.maxScore);
  });
});

describe("variant duplicate-route", () => {
  it("proxy.sticky names the route both servers share and the BalancerMember to change, whichever server the browser met first", () => {
    const sticky = results.get("duplicate-route")!.checks.find((c) => c.id === "proxy.sticky")!;
    expect(sticky.outcome).toBe("fail");
    expect(sticky.message.es).toMatch(/webserver1 y webserver2 reciben la misma ruta \(ROUTEID=\.wsrv1\)/);
    expect(sticky.fix?.es).toContain("route=wsrv2 en el de webserver2");
    expect(sticky.fix?.en).toMatch(/^Give each BalancerMember its own route: route=wsrv2 on webserver2's \(10\.221\.\d+\.12\)\.$/);
  });
});

describe("scorecards of real results", () => {
  it("the correct lab's and a broken variant's results render as schema-valid JUnit and a self-contained HTML page", async () => {
    const { mkdtemp, readFile, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { spawnSync } = await import("node:child_process");
    const { junitReporter } = await import("../../src/report/junit.js");
    const { htmlReporter } = await import("../../src/report/html.js");
    const xsd = new URL("../report/fixtures/jenkins-junit.xsd", import.meta.url).pathname;
    const dir = await mkdtemp(join(tmpdir(), "hagrade-real-scorecards-"));
    try {
      for (const name of ["correct", "routes-swapped"]) {
        const result = results.get(name)!;
        const xml = join(dir, `${name}.xml`);
        const html = join(dir, `${name}.html`);
        await junitReporter(xml, { lang: "es" }).onEnd?.(result);
        await htmlReporter(html, { lang: "es" }).onEnd?.(result);
        const lint = spawnSync("xmllint", ["--noout", "--schema", xsd, xml], { encoding: "utf8" });
        expect(lint.status, lint.stderr).toBe(0);
        const page = await readFile(html, "utf8");
        for (const c of result.checks) expect(page).toContain(c.id);
        expect(page).not.toMatch(/<script|\b(src|href)\s*=\s*["']?https?:/i);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
