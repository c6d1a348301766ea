/**
 * The Part 1 rubric checks on the real LVS lab (keepalived + IPVS in the qemu VM): one boot,
 * then each variant in turn, graded as a student's lab would be; every check must reach the
 * verdict variants.json states for that variant, with messages in both languages and a fix
 * on every fail. Disruptive and long checks are not part of this file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadVariants, startVmLab, type VariantName, type VmLab } from "../../fixtures/vm/index.js";
import { loadSpec } from "../../src/config/index.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { CheckResult, RunResult } from "../../src/runner/types.js";

const LVS_IDS = ["lvs.modules", "lvs.virtual-server", "lvs.round-robin", "lvs.weights", "lvs.persistence", "lvs.http-get"];
/**
 * Order matters on one VM: persistence templates outlive a variant switch (a reload keeps
 * them), so the persistent variants come late, and keepalived-stopped, which unloads the
 * ip_vs modules, comes last.
 */
const ORDER: VariantName[] = [
  "rr",
  "missing-real-server",
  "wrr-3-1",
  "wrr-1-1",
  "rr-with-weights",
  "http-get-correct",
  "http-get-wrong-digest",
  "tcp-check-only",
  "persistence-300",
  "persistence-1200",
  "persistence-0",
  "keepalived-stopped",
];

const variants = loadVariants();
const results = new Map<VariantName, RunResult>();
let persistentOneClient: RunResult | undefined;
let lab: VmLab | undefined;
let journalDir: string;

async function grade(current: VmLab, oneClient = false): Promise<RunResult> {
  const loaded = await loadSpec(current.specPath);
  if (!loaded.ok) throw new Error(`spec of ${current.variant} does not load: ${JSON.stringify(loaded.problems)}`);
  // oneClient: a grader with a single address, as most students' machines are.
  const spec = oneClient ? { ...loaded.spec, grader: { ...loaded.spec.grader, sourceAddresses: [] } } : loaded.spec;
  return gradeLab(spec, {
    lang: "en",
    part: "lvs",
    disruptive: false,
    long: false,
    interactive: false,
    acceptNewHostKeys: false,
    journalDir,
    // net.vip-http is what the sampling checks depend on: a dead VIP skips them.
    only: ["net.vip-http", ...LVS_IDS],
  });
}

beforeAll(async () => {
  journalDir = mkdtempSync(join(tmpdir(), "hagrade-lvs-rubric-"));
  lab = await startVmLab({ variant: ORDER[0] });
  for (const name of ORDER) {
    if (lab.variant !== name) await lab.setVariant(name);
    results.set(name, await grade(lab));
    if (name === "persistence-1200") persistentOneClient = await grade(lab, true);
  }
}, 420_000);

afterAll(async () => {
  await lab?.stop();
  rmSync(journalDir, { recursive: true, force: true });
}, 60_000);

function matches(expected: string, check: CheckResult | undefined): boolean {
  if (expected === "any") return true;
  if (!check) return false;
  if (expected === "not-pass") return check.outcome === "fail" || (check.outcome === "skipped" && check.evidence.some((e) => e.kind === "dependency"));
  return check.outcome === expected;
}

describe.each(ORDER)("variant %s", (name) => {
  it("gives each Part 1 check the verdict variants.json states", () => {
    const result = results.get(name)!;
    const byId = new Map(result.checks.map((c) => [c.id, c]));
    const summary = result.checks.map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`).join("\n");
    for (const id of LVS_IDS) {
      const expected = variants[name].verdicts[id] ?? "any";
      expect(matches(expected, byId.get(id)), `${id} should be ${expected}\n${summary}`).toBe(true);
    }
  });

  it("says what was seen and what to change, in Spanish and English", () => {
    const result = results.get(name)!;
    for (const c of result.checks.filter((c) => LVS_IDS.includes(c.id) && c.outcome === "fail")) {
      expect(c.message.es.length, c.id).toBeGreaterThan(10);
      expect(c.message.en.length, c.id).toBeGreaterThan(10);
      expect(c.message.es, c.id).not.toEqual(c.message.en);
      expect(c.fix?.es.length ?? 0, `${c.id} has a fix`).toBeGreaterThan(10);
      expect(c.fix?.en.length ?? 0, `${c.id} has a fix`).toBeGreaterThan(10);
    }
  });
});

describe("what the messages name", () => {
  const find = (variant: VariantName, id: string) => results.get(variant)!.checks.find((c) => c.id === id)!;

  it("names the scheduler line when weights are set but the scheduler is still rr", () => {
    expect(find("rr-with-weights", "lvs.weights").fix?.en).toContain("lb_algo wrr");
  });

  it("names the weights when wrr splits 1:1 where 3:1 is expected", () => {
    const weights = find("wrr-1-1", "lvs.weights");
    expect(weights.message.en).toContain("3:1");
    expect(weights.fix?.en).toContain("weight 3");
  });

  it("gives the page's real digest for a copied HTTP_GET block", () => {
    const check = find("http-get-wrong-digest", "lvs.http-get");
    const digests = check.evidence.find((e) => e.kind === "http-get-digests") as unknown as { realServers: { backend: string; ok: boolean; computed?: string }[] };
    const ws2 = digests.realServers.find((r) => r.backend === "webserver2")!;
    expect(ws2.ok).toBe(false);
    expect(check.fix?.en).toContain(ws2.computed!);
  });

  it("computes each page's digest as keepalived's own genhash does", () => {
    const check = find("http-get-correct", "lvs.http-get");
    const digests = check.evidence.find((e) => e.kind === "http-get-digests") as unknown as { realServers: { computed?: string; genhash?: string }[] };
    expect(digests.realServers).toHaveLength(2);
    for (const r of digests.realServers) {
      expect(r.computed).toMatch(/^[0-9a-f]{32}$/);
      expect(r.computed).toBe(r.genhash);
    }
  });

  it("reports the measured countdown of the persistence template", () => {
    const check = find("persistence-1200", "lvs.persistence");
    const template = check.evidence.find((e) => e.kind === "persistence-template") as { remainingSeconds: number | null } | undefined;
    expect(template?.remainingSeconds).toBeGreaterThan(0);
  });

  it("gives half the points when persistence is on with another timeout", () => {
    const check = find("persistence-300", "lvs.persistence");
    expect(check.points).toBeLessThan(check.maxPoints);
    expect(check.fix?.en).toContain("persistence_timeout 1200");
  });

  it("judges round robin behind persistence from many client addresses", () => {
    expect(find("persistence-1200", "lvs.round-robin").outcome).toBe("pass");
    const sample = find("persistence-1200", "lvs.round-robin").evidence.find((e) => e.kind === "sample") as unknown as { clientAddresses: string[] };
    expect(new Set(sample.clientAddresses).size).toBe(sample.clientAddresses.length);
  });

  it("is inconclusive, never a false fail, behind persistence with one client address", () => {
    const rr = persistentOneClient!.checks.find((c) => c.id === "lvs.round-robin")!;
    expect(rr.outcome).toBe("inconclusive");
    expect(rr.message.en).toContain("scheduler rr");
    expect(rr.fix?.en).toContain("grader.sourceAddresses");
  });

  it("finds the modules missing when keepalived is stopped, not loaded by its own probe", () => {
    expect(find("keepalived-stopped", "lvs.modules").message.en).toContain("ip_vs_rr");
  });
});
