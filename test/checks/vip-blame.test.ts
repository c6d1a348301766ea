/**
 * net.vip-http puts the blame where it belongs (issue 15 §7). A VIP that gives no answer at all is
 * the lab's fault (`fail`, with the fix for what the grader saw) when the balancer itself answers
 * from the grader's place, and the grader's (`error`) only when nothing of the lab answers.
 * Real labs: the VIP taken off the balancer's interface, Apache listening elsewhere, a firewall
 * dropping the web port, and the correct lab as the control.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLab, type Lab } from "../../fixtures/netns/index.js";
import type { SpecOverrides } from "../../src/config/index.js";
import type { ReachProbeSeen } from "../../src/model/index.js";
import { gradeLab } from "../../src/runner/grade.js";
import type { CheckResult } from "../../src/runner/types.js";
import { gradeOptions, loadLabSpec } from "../helpers/grade.js";

const VARIANTS = ["correct", "vip-missing", "vip-refused", "vip-silent"] as const;
type Variant = (typeof VARIANTS)[number];

const labs = new Map<Variant, Lab>();
const graded = new Map<string, CheckResult>();
let dir: string;

/** net.vip-http alone; a short connect deadline keeps the silent cases quick. */
async function vipHttp(lab: Lab, overrides: SpecOverrides = {}): Promise<CheckResult> {
  const spec = await loadLabSpec(lab.specPath, { timeouts: { connect: 1000 }, ...overrides });
  const result = await gradeLab(spec, gradeOptions({ journalDir: mkdtempSync(join(dir, "journal-")), part: "proxy", only: ["net.vip-http"] }));
  const check = result.checks.find((c) => c.id === "net.vip-http");
  if (!check) throw new Error(`no net.vip-http in ${result.checks.map((c) => c.id).join(", ")}`);
  return check;
}

/** The correct lab's spec pointed at addresses of its service network that nothing holds. */
function nobodyThere(lab: Lab): SpecOverrides {
  const net = lab.addresses.vip.replace(/\.\d+$/, "");
  return { vip: { address: `${net}.50` }, balancer: { serviceAddress: `${net}.51`, ssh: { host: `${net}.52` } } };
}

function probes(check: CheckResult): ReachProbeSeen[] {
  const reach = check.evidence.find((e) => e.kind === "tcp-reach");
  return reach?.kind === "tcp-reach" ? reach.probes : [];
}

const stateOf = (check: CheckResult, role: string) => probes(check).find((p) => p.role === role)?.state;
const seen = (check: CheckResult) => `${check.outcome} — ${check.message.en} / ${check.fix?.en ?? ""} ${JSON.stringify(check.evidence)}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "hagrade-vip-blame-"));
  const started = await Promise.allSettled(VARIANTS.map((variant) => startLab({ variant })));
  started.forEach((r, k) => {
    if (r.status === "fulfilled") labs.set(VARIANTS[k]!, r.value);
  });
  const failed = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
  const lab = (v: Variant) => labs.get(v)!;
  const grades = await Promise.all([
    ...VARIANTS.map(async (v) => [v, await vipHttp(lab(v))] as const),
    (async () => ["nobody there", await vipHttp(lab("correct"), nobodyThere(lab("correct")))] as const)(),
  ]);
  for (const [name, check] of grades) graded.set(name, check);
}, 300_000);

afterAll(async () => {
  await Promise.allSettled([...labs.values()].map((l) => l.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("net.vip-http: whose fault a VIP without an answer is", () => {
  it("passes on the correct lab", () => {
    const check = graded.get("correct")!;
    expect(check.outcome, seen(check)).toBe("pass");
    expect(probes(check)).toEqual([]);
  });

  it("vip-missing: fails (not an error) and says to put the VIP on the balancer's interface", () => {
    const check = graded.get("vip-missing")!;
    const { vip, balancerService } = labs.get("vip-missing")!.addresses;
    expect(check.outcome, seen(check)).toBe("fail");
    expect(check.message.en).toContain(`${balancerService}:22`);
    expect(check.fix?.en).toContain(`No machine holds the address ${vip}`);
    expect(check.fix?.es).toContain(`Ninguna máquina tiene la dirección ${vip}`);
    expect(stateOf(check, "vip"), seen(check)).toBe("unreachable");
    expect(stateOf(check, "balancer-ssh")).toBe("connected");
    expect(check.evidence.some((e) => e.kind === "http-request" && !e.ok)).toBe(true);
  });

  it("vip-refused: stays a fail for nothing listening on the VIP", () => {
    const check = graded.get("vip-refused")!;
    expect(check.outcome, seen(check)).toBe("fail");
    expect(check.message.en).toMatch(/Nothing listens on .*refused/);
    expect(check.fix?.en).toMatch(/listening on it/);
  });

  it("vip-silent: fails and points at the balancer's firewall, citing the SSH that answered", () => {
    const check = graded.get("vip-silent")!;
    const { balancerService } = labs.get("vip-silent")!.addresses;
    expect(check.outcome, seen(check)).toBe("fail");
    expect(check.message.en).toContain(`yet the balancer does (${balancerService}:22)`);
    expect(check.fix?.en).toMatch(/Check the balancer's firewall \(nft list ruleset/);
    expect(check.fix?.es).toMatch(/Revise el cortafuegos del balanceador/);
    expect(stateOf(check, "vip")).toBe("timeout");
    expect(stateOf(check, "balancer-service")).toBe("timeout");
    expect(stateOf(check, "balancer-ssh")).toBe("connected");
  });

  it("is an error when nothing of the lab answers at the spec's addresses", () => {
    const check = graded.get("nobody there")!;
    expect(check.outcome, seen(check)).toBe("error");
    expect(check.message.en).toMatch(/^Cannot reach the VIP/);
    expect(probes(check).map((p) => p.role).sort()).toEqual(["balancer-service", "balancer-ssh", "vip"]);
    expect(probes(check).filter((p) => p.state === "connected" || p.state === "refused")).toEqual([]);
  });

  // Last: it changes the vip-silent lab.
  it("is an error when the balancer's firewall drops its SSH too", async () => {
    const lab = labs.get("vip-silent")!;
    await lab.hostExec("balancer", "nft add rule inet filter input tcp dport 22 drop");
    const check = await vipHttp(lab);
    expect(check.outcome, seen(check)).toBe("error");
    expect(stateOf(check, "balancer-ssh")).toBe("timeout");
  }, 60_000);
});
