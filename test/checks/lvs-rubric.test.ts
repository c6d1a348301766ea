/**
 * The Part 1 rubric checks on the real LVS lab (keepalived + IPVS in the qemu VM): one boot,
 * then each variant in turn, graded as a student's lab would be; every network and LVS check
 * must reach the verdict variants.json states for that variant, with messages in both
 * languages and a fix on every fail. The correct lab's result is then written in every report
 * format. Disruptive checks are not part of this file, nor long ones that really wait: only
 * persistence-0's lvs.persistence-long, which fails without waiting, is graded with --long.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadVariants, startVmLab, VM_SSH_TIMEOUT_MS, type VariantName, type VmLab } from "../../fixtures/vm/index.js";
import { discoverLab, type DiscoveryResult } from "../../src/discover/index.js";
import { renderHtml } from "../../src/report/html.js";
import { jsonReporter } from "../../src/report/json.js";
import { renderJunit } from "../../src/report/junit.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { CheckResult, RunResult } from "../../src/runner/types.js";
import { gradeOptions, loadLabSpec } from "../helpers/grade.js";

const NET_IDS = ["net.vip-http", "net.two-backends", "net.ip-forward", "net.nat", "net.gateway"];
const LVS_IDS = ["lvs.modules", "lvs.virtual-server", "lvs.round-robin", "lvs.weights", "lvs.persistence", "lvs.http-get"];
const RUBRIC_IDS = [...NET_IDS, ...LVS_IDS];
const JUNIT_XSD = fileURLToPath(new URL("../report/fixtures/jenkins-junit.xsd", import.meta.url));
/**
 * Order matters on one VM: persistence templates outlive a variant switch (a reload keeps
 * them), so the persistent variants come late, and keepalived-stopped, which unloads the
 * ip_vs modules, comes before final, the finished lab, which starts from a clean kernel table.
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
  // After keepalived-stopped, which unloaded ip_vs: no template of an earlier variant survives.
  "final",
];

const variants = loadVariants();
const results = new Map<VariantName, RunResult>();
let persistentOneClient: RunResult | undefined;
/** persistence-0 graded with --long: lvs.persistence-long has no template to wait for. */
let noPersistenceLong: RunResult | undefined;
/**
 * The finished lab (wrr 3:1, persistence 1200, HTTP_GET) graded as students grade it: from 16
 * client addresses and from one, each twice in a row (the second inside the persistence window,
 * with the first run's templates alive).
 */
const finalRuns: Array<{ label: string; result: RunResult }> = [];
/** The finished lab with webserver2's weight set to 0 by hand, graded from one address. */
let finalZeroWeight: RunResult | undefined;
/**
 * The finished lab graded behind a port forwarder (VirtualBox NAT): the VIP and SSH as ports of
 * loopback, every connection from the engine's one address; twice, the second inside the
 * persistence window. Then with vip.forwardsTo naming a port the lab does not serve.
 */
const forwardRuns: RunResult[] = [];
/**
 * The finished lab graded by `hagrade run` inside the director itself (a Linux host as the
 * balancer): no SSH to it, every connection to the VIP from the director's own address. Then,
 * with webserver2's weight at 0, the checks the table decides.
 */
/**
 * `init --discover` with only the director's address and the key, then a grade with the spec it
 * wrote: the finished lab directly and through the port forwarder (`--vip 127.0.0.1:PORT`), and
 * wrr-1-1, whose 1:1 weights must not grade themselves right (the spec's 3:1 comes from the lab text).
 */
const discovered = new Map<string, { found: DiscoveryResult; result?: RunResult }>();
let inside: { code: number; output: string; result: RunResult | null } | undefined;
let insideZeroWeight: { code: number; output: string; result: RunResult | null } | undefined;
let forwardWrongTarget: RunResult | undefined;
/** With a second TCP virtual service in the table: without vip.forwardsTo, then with it. */
let forwardAmbiguous: RunResult | undefined;
let forwardNamed: RunResult | undefined;
let engineAddress = "";
let lab: VmLab | undefined;
let journalDir: string;

/** The rr lab graded as if it were Part 2: IPVS balances connections, not requests. */
let lvsAsProxy: RunResult | undefined;

async function grade(
  current: VmLab,
  { oneClient = false, addresses = undefined as number | undefined, long = false, only = RUBRIC_IDS, part = "lvs" as "lvs" | "proxy", specPath = current.specPath } = {},
): Promise<RunResult> {
  const loaded = await loadLabSpec(specPath);
  // oneClient: a grader with a single address, as most students' machines are; addresses: the
  // first N of the lab's client addresses.
  const sources = oneClient ? [] : addresses === undefined ? loaded.grader.sourceAddresses : loaded.grader.sourceAddresses.slice(0, addresses);
  const spec = { ...loaded, grader: { ...loaded.grader, sourceAddresses: sources } };
  return gradeLab(spec, gradeOptions({ part, long, journalDir, only }));
}

beforeAll(async () => {
  journalDir = mkdtempSync(join(tmpdir(), "hagrade-lvs-rubric-"));
  lab = await startVmLab({ variant: ORDER[0] });
  for (const name of ORDER) {
    if (lab.variant !== name) await lab.setVariant(name);
    if (name === "final") {
      await gradeFinal(lab);
      continue;
    }
    results.set(name, await grade(lab));
    if (name === "wrr-1-1") discovered.set("wrr-1-1", await discoverAndGrade(lab, `root@${lab.addresses.director}`));
    if (name === "rr") lvsAsProxy = await grade(lab, { part: "proxy", only: ["net.vip-http", "proxy.round-robin"] });
    // net.vip-http is what the sampling checks depend on: a dead VIP skips them.
    if (name === "persistence-1200") persistentOneClient = await grade(lab, { oneClient: true, only: ["net.vip-http", ...LVS_IDS] });
    if (name === "persistence-0") noPersistenceLong = await grade(lab, { long: true, only: ["net.vip-http", "lvs.persistence-long"] });
  }
}, 600_000);

async function discoverAndGrade(current: VmLab, destination: string, vip?: { address: string; port: number }): Promise<{ found: DiscoveryResult; result?: RunResult }> {
  const home = mkdtempSync(join(tmpdir(), "hagrade-lvs-discover-"));
  try {
    const found = await discoverLab({ destination, identity: join(current.stateDir, "id_ed25519"), env: {}, homeDir: home, sshConfig: false, lang: "en", ...(vip ? { vip } : {}) });
    if (!found.ok) return { found };
    const specPath = join(current.stateDir, `discovered-${current.variant}${vip ? "-forward" : ""}.yaml`);
    writeFileSync(specPath, found.specText);
    const spec = await loadLabSpec(specPath);
    // The teacher's bound for slow machines, as the reference spec has (VM_SSH_TIMEOUT_MS).
    const result = await gradeLab({ ...spec, timeouts: { ...spec.timeouts, ssh: VM_SSH_TIMEOUT_MS } }, gradeOptions({ part: "lvs", journalDir, only: RUBRIC_IDS }));
    return { found, result };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function gradeFinal(current: VmLab): Promise<void> {
  discovered.set("final", await discoverAndGrade(current, `root@${current.addresses.director}`));
  for (const addresses of [16, 1]) {
    for (const run of [1, 2]) {
      const result = await grade(current, addresses === 1 ? { oneClient: true } : { addresses });
      finalRuns.push({ label: `${addresses} address${addresses === 1 ? "" : "es"}, run ${run}`, result });
    }
  }
  results.set("final", finalRuns[0]!.result);
  // A table that no longer sends new clients to webserver2: the table cannot vouch for it.
  const { vip, backends } = current.addresses;
  const ws2 = `-t ${vip}:80 -r ${backends.webserver2}:80 -m`;
  const zero = await current.directorExec(`ipvsadm -e ${ws2} -w 0`);
  if (zero.code !== 0) throw new Error(`ipvsadm -e -w 0 failed: ${zero.stderr}`);
  try {
    finalZeroWeight = await grade(current, { oneClient: true, only: ["net.vip-http", "net.two-backends", "lvs.round-robin", "lvs.weights"] });
    insideZeroWeight = (await current.gradeInsideDirector(["--only", "net.vip-http,net.two-backends,lvs.round-robin,lvs.weights"])) as typeof insideZeroWeight;
  } finally {
    await current.directorExec(`ipvsadm -e ${ws2} -w 1`);
  }
  await current.waitForRealServers({ webserver1: 3, webserver2: 1 });
  inside = (await current.gradeInsideDirector(["--only", RUBRIC_IDS.join(",")])) as typeof inside;
  const forward = await current.openForward();
  engineAddress = forward.engineAddress;
  try {
    for (let run = 0; run < 2; run++) forwardRuns.push(await grade(current, { specPath: forward.specPath }));
    discovered.set("final-forward", await discoverAndGrade(current, `root@127.0.0.1:${forward.sshPort}`, { address: "127.0.0.1", port: forward.vipPort }));
    const loaded = await loadLabSpec(forward.specPath);
    const wrong = { ...loaded, vip: { ...loaded.vip, forwardsTo: { address: current.addresses.vip, port: 81 } } };
    forwardWrongTarget = await gradeLab(wrong, gradeOptions({ part: "lvs", journalDir, only: ["lvs.virtual-server", "lvs.http-get"] }));
    // A second TCP service by hand: which one the forward reaches is then not known without forwardsTo.
    const second = `-t ${current.addresses.vip}:8080`;
    const added = await current.directorExec(`ipvsadm -A ${second} -s rr`);
    if (added.code !== 0) throw new Error(`ipvsadm -A failed: ${added.stderr}`);
    try {
      const only = ["net.vip-http", "lvs.virtual-server", "lvs.http-get", "lvs.weights"];
      forwardAmbiguous = await gradeLab(loaded, gradeOptions({ part: "lvs", journalDir, only }));
      const named = { ...loaded, vip: { ...loaded.vip, forwardsTo: { address: current.addresses.vip, port: 80 } } };
      forwardNamed = await gradeLab(named, gradeOptions({ part: "lvs", journalDir, only }));
    } finally {
      await current.directorExec(`ipvsadm -D ${second}`);
    }
  } finally {
    await forward.close();
  }
}

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
    for (const id of RUBRIC_IDS) {
      const expected = variants[name].verdicts[id];
      expect(expected, `variants.json lists ${id} for ${name}`).toBeDefined();
      expect(matches(expected ?? "any", byId.get(id)), `${id} should be ${expected}\n${summary}`).toBe(true);
    }
  });

  it("says what was seen and what to change, in Spanish and English", () => {
    const result = results.get(name)!;
    for (const c of result.checks.filter((c) => RUBRIC_IDS.includes(c.id) && c.outcome === "fail")) {
      expect(c.message.es.length, c.id).toBeGreaterThan(10);
      expect(c.message.en.length, c.id).toBeGreaterThan(10);
      expect(c.message.es, c.id).not.toEqual(c.message.en);
      expect(c.fix?.es.length ?? 0, `${c.id} has a fix`).toBeGreaterThan(10);
      expect(c.fix?.en.length ?? 0, `${c.id} has a fix`).toBeGreaterThan(10);
    }
  });
});

describe("a per-connection balancer is not Apache's byrequests", () => {
  it("proxy.round-robin fails on real IPVS rr: one keep-alive connection stays on one server", () => {
    const check = lvsAsProxy!.checks.find((c) => c.id === "proxy.round-robin")!;
    expect(check.outcome, check.message.en).toBe("fail");
    expect(check.message.en).toMatch(/requests are not balanced one by one/);
    expect(check.fix?.en).toContain("lbmethod=byrequests");
    const behaviour = check.evidence.find((e) => e.kind === "keep-alive-behaviour") as unknown as { behaviour: string; backendsSeen: string[] };
    expect(behaviour.behaviour).toBe("pinned");
    expect(behaviour.backendsSeen).toHaveLength(1);
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

  it("fails with half the points when persistence is on with another timeout, saying which part earned them", () => {
    const check = find("persistence-300", "lvs.persistence");
    expect(check.outcome).toBe("fail");
    expect(check.points).toBe(check.maxPoints / 2);
    expect(check.message.en).toContain("persistent 300; expected 1200");
    expect(check.message.en).toMatch(/Half the points are for what does work: One client always reaches webserver\d/);
    expect(check.fix?.en).toContain("persistence_timeout 1200");
  });

  it("judges round robin behind persistence from many client addresses", () => {
    expect(find("persistence-1200", "lvs.round-robin").outcome).toBe("pass");
    const sample = find("persistence-1200", "lvs.round-robin").evidence.find((e) => e.kind === "sample") as unknown as { clientAddresses: string[] };
    expect(new Set(sample.clientAddresses).size).toBe(sample.clientAddresses.length);
  });

  it("decides round robin behind persistence with one client address from the IPVS table", () => {
    const rr = persistentOneClient!.checks.find((c) => c.id === "lvs.round-robin")!;
    expect(rr.outcome, rr.message.en).toBe("pass");
    expect(rr.message.en).toContain("ipvsadm -Ln shows scheduler rr");
    expect(rr.evidence.some((e) => e.kind === "ipvs-service")).toBe(true);
  });

  it("finds the modules missing when keepalived is stopped, not loaded by its own probe", () => {
    expect(find("keepalived-stopped", "lvs.modules").message.en).toContain("ip_vs_rr");
  });
});

describe("the finished Part 1 lab (wrr 3:1, persistence 1200, HTTP_GET)", () => {
  it("gets full marks from 16 client addresses and from one, twice in a row", () => {
    expect(finalRuns.map((r) => r.label)).toEqual(["16 addresses, run 1", "16 addresses, run 2", "1 address, run 1", "1 address, run 2"]);
    for (const { label, result } of finalRuns) {
      const summary = result.checks.map((c) => `${c.id}: ${c.outcome} ${c.points}/${c.maxPoints} — ${c.message.en}`).join("\n");
      for (const id of RUBRIC_IDS) {
        const check = result.checks.find((c) => c.id === id);
        expect(check?.outcome, `${label}: ${id}\n${summary}`).toBe("pass");
        expect(check?.points, `${label}: ${id} points`).toBe(check?.maxPoints);
      }
    }
  });

  it("decides the weights from the table with one address, citing it and the page the VIP served", () => {
    const weights = finalRuns[2]!.result.checks.find((c) => c.id === "lvs.weights")!;
    expect(weights.message.en).toContain("ipvsadm -Ln shows wrr with weights 3:1");
    expect(weights.message.en).toContain("persistence of 1200 s");
    expect(weights.evidence.some((e) => e.kind === "ipvs-service")).toBe(true);
  });

  it("does not vouch for a table that sends no new client to webserver2", () => {
    const byId = new Map(finalZeroWeight!.checks.map((c) => [c.id, c]));
    const summary = finalZeroWeight!.checks.map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`).join("\n");
    expect(byId.get("net.two-backends")?.outcome, summary).toBe("inconclusive");
    expect(byId.get("lvs.round-robin")?.outcome, summary).toBe("inconclusive");
    expect(byId.get("lvs.weights")?.outcome, summary).toBe("fail");
  });
});

describe("the finished Part 1 lab behind a port forwarder (VirtualBox NAT: VIP and SSH on loopback)", () => {
  it("gets full marks twice in a row, the table deciding what one client address cannot show", () => {
    expect(forwardRuns).toHaveLength(2);
    for (const [run, result] of forwardRuns.entries()) {
      const summary = result.checks.map((c) => `${c.id}: ${c.outcome} ${c.points}/${c.maxPoints} — ${c.message.en}`).join("\n");
      for (const id of RUBRIC_IDS) {
        const check = result.checks.find((c) => c.id === id);
        expect(check?.outcome, `run ${run + 1}: ${id}\n${summary}`).toBe("pass");
        expect(check?.points, `run ${run + 1}: ${id} points`).toBe(check?.maxPoints);
      }
    }
  });

  it("says the loopback VIP stands for the table's one virtual service, and finds the engine's template", () => {
    const byId = new Map(forwardRuns[0]!.checks.map((c) => [c.id, c]));
    const vip = lab!.addresses.vip;
    expect(byId.get("lvs.virtual-server")?.message.en).toContain(`is a port forward: the one TCP virtual service of IPVS, ${vip}:80, is taken as the VIP`);
    expect(byId.get("lvs.persistence")?.message.en).toContain(`ASSURED template of ${engineAddress}`);
    expect(byId.get("lvs.weights")?.message.en).toContain("ipvsadm -Ln shows wrr with weights 3:1");
    expect(byId.get("net.nat")?.message.en).toContain(`the balancer sees this machine as ${engineAddress}`);
  });

  it("with two services and no vip.forwardsTo, is inconclusive and asks for it; with it, decides", () => {
    const ambiguous = new Map(forwardAmbiguous!.checks.map((c) => [c.id, c]));
    const summary = forwardAmbiguous!.checks.map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`).join("\n");
    for (const id of ["lvs.virtual-server", "lvs.http-get"]) {
      expect(ambiguous.get(id)?.outcome, summary).toBe("inconclusive");
      expect(ambiguous.get(id)?.message.en, id).toContain("has not exactly one TCP virtual service");
      expect(ambiguous.get(id)?.fix?.en, id).toContain("vip.forwardsTo");
    }
    expect(ambiguous.get("lvs.weights")?.outcome, summary).toBe("inconclusive");
    const named = new Map(forwardNamed!.checks.map((c) => [c.id, c]));
    const namedSummary = forwardNamed!.checks.map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`).join("\n");
    for (const id of ["lvs.virtual-server", "lvs.http-get", "lvs.weights"]) expect(named.get(id)?.outcome, namedSummary).toBe("pass");
    expect(named.get("lvs.virtual-server")?.message.en).toContain("vip.forwardsTo");
  });

  it("looks for the service vip.forwardsTo names, and fails when the lab does not serve it", () => {
    const byId = new Map(forwardWrongTarget!.checks.map((c) => [c.id, c]));
    const vip = lab!.addresses.vip;
    expect(byId.get("lvs.virtual-server")?.outcome).toBe("fail");
    expect(byId.get("lvs.virtual-server")?.message.en).toContain(`has no service ${vip}:81`);
    expect(byId.get("lvs.http-get")?.outcome).toBe("fail");
    expect(byId.get("lvs.http-get")?.message.en).toContain(`has no virtual_server ${vip} 81`);
  });
});

describe("the finished Part 1 lab graded inside the director (hagrade on the balancer, no SSH to it)", () => {
  it("gets full marks, run as a student runs it", () => {
    const result = inside?.result;
    expect(result, inside?.output).toBeTruthy();
    const summary = result!.checks.map((c) => `${c.id}: ${c.outcome} ${c.points}/${c.maxPoints} — ${c.message.en}`).join("\n");
    for (const id of RUBRIC_IDS) {
      const check = result!.checks.find((c) => c.id === id);
      expect(check?.outcome, `${id}\n${summary}`).toBe("pass");
      expect(check?.points, `${id} points`).toBe(check?.maxPoints);
    }
    expect(inside?.code).toBe(0);
    expect(result!.checks.find((c) => c.id === "net.nat")?.message.en).toContain("hagrade runs on the balancer itself");
    expect(result!.checks.find((c) => c.id === "lvs.weights")?.message.en).toContain("ipvsadm -Ln shows wrr with weights 3:1");
  });

  it("does not vouch for a table that sends no new client to webserver2", () => {
    const result = insideZeroWeight?.result;
    expect(result, insideZeroWeight?.output).toBeTruthy();
    const byId = new Map(result!.checks.map((c) => [c.id, c]));
    const summary = result!.checks.map((c) => `${c.id}: ${c.outcome} — ${c.message.en}`).join("\n");
    expect(byId.get("net.two-backends")?.outcome, summary).toBe("inconclusive");
    expect(byId.get("lvs.round-robin")?.outcome, summary).toBe("inconclusive");
    expect(byId.get("lvs.weights")?.outcome, summary).toBe("fail");
    expect(insideZeroWeight?.code).not.toBe(0);
  });
});

describe("init --discover on the Part 1 lab", () => {
  const fullMarks = (label: string) => {
    const { found, result } = discovered.get(label)!;
    expect(found.ok, found.ok ? "" : `${found.message.en} → ${found.fix.en}`).toBe(true);
    if (!found.ok) return found;
    expect(found.lab.part).toBe("lvs");
    expect(found.lab.differences.map((d) => d.topic)).toEqual([]);
    const summary = result!.checks.map((c) => `${c.id}: ${c.outcome} ${c.points}/${c.maxPoints} — ${c.message.en}`).join("\n");
    for (const id of RUBRIC_IDS) expect(result!.checks.find((c) => c.id === id)?.outcome, `${label}: ${id}\n${summary}\n${found.specText}`).toBe("pass");
    expect(result!.score, summary).toBe(result!.maxScore);
    return found;
  };

  it("writes a spec that gives the finished lab full marks, from the director's address and the key alone", () => {
    fullMarks("final");
  });

  it("through the port forwarder, names the VIP the director holds in vip.forwardsTo and gives full marks", () => {
    const found = fullMarks("final-forward");
    if (!found.ok) return;
    expect(found.lab.vip.address).toBe("127.0.0.1");
    expect(found.lab.vipForwardsTo).toEqual({ address: lab!.addresses.vip, port: 80 });
    expect(found.specText).toContain(`forwardsTo: { address: "${lab!.addresses.vip}", port: 80 }`);
  });

  it("takes 3:1 from the lab text, so a 1:1 lab lists the weights and fails lvs.weights", () => {
    const { found, result } = discovered.get("wrr-1-1")!;
    expect(found.ok).toBe(true);
    if (!found.ok) return;
    expect(found.lab.differences.map((d) => d.topic)).toContain("weight");
    expect(found.spec.backends.map((b) => b.weight)).toEqual([3, 1]);
    const weights = result!.checks.find((c) => c.id === "lvs.weights");
    expect(weights?.outcome, weights?.message.en).toBe("fail");
  });
});

describe("lvs.persistence-long with --long", () => {
  it("fails persistence-0 at once: there is no persistent template to wait out", () => {
    const long = noPersistenceLong!.checks.find((c) => c.id === "lvs.persistence-long")!;
    const expected = variants["persistence-0"].verdicts["lvs.persistence-long"];
    expect(expected).toBe("fail");
    expect(matches(expected!, long), `${long.outcome}: ${long.message.en}`).toBe(true);
    expect(long.message.en).toContain("persistent");
    expect(long.fix?.en).toContain("persistence_timeout 1200");
  });
});

/**
 * The correct lab's real result (variant rr), written by the report modules as hagrade run does:
 * what a teacher opens must hold a Part 1 result as it holds the synthetic ones of test/report.
 */
describe("the correct Part 1 result in every report format", () => {
  let dir: string;
  const correct = () => results.get("rr")!;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "hagrade-lvs-reports-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("is a full Part 1 result: every check variants.json expects to pass did", () => {
    const result = correct();
    expect(result.part).toBe("lvs");
    expect(result.checks.map((c) => c.id).sort()).toEqual([...RUBRIC_IDS].sort());
    const expectedPass = RUBRIC_IDS.filter((id) => variants.rr.verdicts[id] === "pass");
    for (const id of expectedPass) expect(result.checks.find((c) => c.id === id)?.outcome, id).toBe("pass");
  });

  it.each(["es", "en"] as const)("JUnit (%s) validates against the Jenkins schema, one testcase per check", (lang) => {
    const result = correct();
    const file = join(dir, `lvs-${lang}.xml`);
    writeFileSync(file, renderJunit(result, { lang }));
    const valid = spawnSync("xmllint", ["--noout", "--schema", JUNIT_XSD, file], { encoding: "utf8" });
    expect(valid.stderr).toContain("validates");
    expect(valid.status).toBe(0);
    const count = spawnSync("xmllint", ["--xpath", "count(/testsuite/testcase)", file], { encoding: "utf8" });
    expect(count.stdout.trim()).toBe(String(result.checks.length));
    const part = spawnSync("xmllint", ["--xpath", "string(/testsuite/properties/property[@name='part']/@value)", file], { encoding: "utf8" });
    expect(part.stdout.trim()).toBe("lvs");
  });

  it("HTML is self-contained and has one card per check", () => {
    const result = correct();
    const html = renderHtml(result, { lang: "en" });
    // Nothing is fetched when the page opens: no remote src/href, no script, no stylesheet link.
    expect(html).not.toMatch(/\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i);
    expect(html).not.toMatch(/<script\b|<link\b/i);
    const file = join(dir, "lvs.html");
    writeFileSync(file, html);
    const xpath = (expr: string) => spawnSync("xmllint", ["--html", "--xpath", expr, file], { encoding: "utf8" }).stdout.trim();
    expect(xpath("count(//article[contains(@class,'card')])")).toBe(String(result.checks.length));
    for (const c of result.checks) expect(xpath(`count(//article[@id='check-${c.id}'])`), c.id).toBe("1");
  });

  it("JSON round-trips: the same checks with the same outcomes and points", async () => {
    const result = correct();
    const file = join(dir, "lvs.json");
    expect(await jsonReporter(file).onEnd?.(result)).toEqual([file]);
    const parsed = JSON.parse(readFileSync(file, "utf8")) as RunResult;
    const summary = (r: RunResult) => r.checks.map((c) => [c.id, c.outcome, c.points, c.maxPoints]);
    expect(summary(parsed)).toEqual(summary(result));
    expect(parsed.part).toBe("lvs");
    expect(parsed.score).toBe(result.score);
  });
});
