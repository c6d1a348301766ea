/**
 * Never pass on missing evidence: every check of both parts, graded with its SSH commands failing
 * in each way (exit 127, empty output, permission denied, sudo refused, a hang, output cut short,
 * garbage) and its HTTP failing in each way (refused, reset, silent, 5xx, garbage, a truncated
 * body), never passes on what it could not read, and each pass cites the evidence it rests on.
 *
 * The lab's machines are scripted SSH servers (test/helpers/fake-sshd.ts) that answer as a correct
 * lab would (test/checks/lab-scripts.ts) or spoil every answer one way; the VIP is a real HTTP
 * peer on loopback that fails one way, or a real Apache balancer over two real web servers.
 * Checks run one by one, their dependencies cut, so each meets the fault itself; each grade has
 * its own scripted servers and journal folder, so the fault cases run side by side. Controls show
 * the property is not empty: with correct answers the SSH checks pass, with a working VIP the
 * HTTP checks pass.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_CHECKS, checksForPart } from "../../checks/index.js";
import { parseSpecText } from "../../src/config/index.js";
import type { LabSpec } from "../../src/config/schema.js";
import { gradeLab, type Rubric } from "../../src/runner/grade.js";
import type { Check } from "../../src/runner/check.js";
import type { CheckResult, Evidence } from "../../src/runner/types.js";
import { startFakeSshd, type FakeSshd } from "../helpers/fake-sshd.js";
import { HTTP_FAULTS, startFaultyHttp, type FaultyHttp, type HttpFault } from "../helpers/faulty-http.js";
import { gradeOptions } from "../helpers/grade.js";
import { startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";
import { closedPort } from "../probe/servers.js";
import { labScript, SSH_FAULTS, type LabShape, type SshFault } from "./lab-scripts.js";

/** 127.0.0.120 the good VIP (Apache), .121/.122 its web servers, .123-.126 more client addresses. */
const LOOPBACK = 120;
const CLIENTS = ["127.0.0.123", "127.0.0.124", "127.0.0.125", "127.0.0.126"];
const PARTS = ["lvs", "proxy"] as const;
type Part = (typeof PARTS)[number];

/** Evidence kinds the runner adds or that say the check did not finish: none of them is a reason to pass. */
const NOT_EVIDENCE = new Set(["ssh-commands", "dependency", "exception", "deadline", "budget", "ssh-error"]);
/** Evidence read from the VIP's traffic. */
const HTTP_KINDS = new Set(["sample", "http-request", "cookie-trace", "keep-alive-behaviour", "failover", "sticky", "sticky-trace"]);

let journalDir: string;
let good: LoopbackLab;

/** One grade's machines: its own scripted servers, so grades run side by side. */
interface Machines {
  balancer: FakeSshd;
  webservers: FakeSshd[];
}

async function startMachines(): Promise<Machines> {
  const start = () => startFakeSshd({ answer: () => ({ code: 127 }) });
  const [balancer, ws1, ws2] = await Promise.all([start(), start(), start()]);
  return { balancer: balancer!, webservers: [ws1!, ws2!] };
}

async function withMachines<T>(use: (m: Machines) => Promise<T>): Promise<T> {
  const machines = await startMachines();
  try {
    return await use(machines);
  } finally {
    await Promise.all([machines.balancer, ...machines.webservers].map((s) => s.stop()));
  }
}

function shape(part: Part, vip: { address: string; port: number }): LabShape {
  return {
    part,
    vip: { address: vip.address, port: vip.port },
    internalAddress: "10.9.0.1",
    backends: [
      { name: "webserver1", address: good.ws1.address, port: good.ws1.port, weight: part === "lvs" ? 3 : 1 },
      { name: "webserver2", address: good.ws2.address, port: good.ws2.port, weight: 1 },
    ],
    persistenceTimeout: part === "lvs" ? 1200 : 0,
    clients: ["127.0.0.1", ...CLIENTS],
  };
}

function script({ balancer, webservers }: Machines, lab: LabShape, fault: SshFault | undefined): void {
  balancer.setAnswer(labScript(lab, fault, () => "balancer"));
  webservers.forEach((w, i) => w.setAnswer(labScript(lab, fault, () => `webserver${i + 1}`)));
}

async function specFor(
  { balancer, webservers }: Machines,
  lab: LabShape,
  fault: SshFault | undefined,
  maxRequests: number,
  natTarget?: { address: string; port: number },
): Promise<LabSpec> {
  const ssh = (server: FakeSshd, extra: Record<string, unknown> = {}) => ({
    host: server.address,
    port: server.port,
    hostKey: server.fingerprint,
    password: "lab",
    user: fault === "sudo refused" ? "alumno" : "root",
    ...extra,
  });
  const raw = {
    lab: "missing-evidence",
    part: lab.part,
    vip: lab.vip,
    grader: { sourceAddresses: CLIENTS, ...(natTarget ? { natTarget } : {}) },
    balancer: { internalAddress: lab.internalAddress, ssh: ssh(balancer) },
    backends: lab.backends.map((b, i) => ({
      name: b.name,
      address: b.address,
      port: b.port,
      ...(lab.part === "lvs" ? { weight: b.weight } : { loadfactor: b.weight }),
      ssh: ssh(webservers[i]!, { jump: "none" }),
    })),
    expect: lab.part === "lvs" ? { lbAlgo: "wrr", persistenceTimeout: lab.persistenceTimeout } : { persistenceTimeout: 0 },
    timeouts: { connect: 300, request: 300, ssh: 1500, failover: 1500, rejoin: 1500 },
    sampling: { maxRequests, ratePerSecond: 1000 },
  };
  const loaded = await parseSpecText(JSON.stringify(raw), { baseDir: process.cwd(), sourceName: "missing-evidence.json" });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.spec;
}

/** The part's checks with their dependencies cut, so each meets the fault itself. */
function alone(): Rubric {
  const cut = (c: Check): Check => ({ ...c, dependsOn: [] });
  return { all: ALL_CHECKS.map(cut), forPart: (p) => checksForPart(p).map(cut) };
}

/**
 * Grades every check of `part` (disruptive and long ones too, unless `long` is false: with a working
 * VIP and a correct lab the long check would really wait out the persistence timeout).
 */
async function grade(part: Part, vip: { address: string; port: number }, fault: SshFault | undefined, { maxRequests = 20, long = true } = {}): Promise<CheckResult[]> {
  return withMachines(async (machines) => {
    const lab = shape(part, vip);
    script(machines, lab, fault);
    const spec = await specFor(machines, lab, fault, maxRequests);
    // A journal folder of its own: a grade's notes (a web server's rejoin) are not another's.
    const journal = mkdtempSync(join(journalDir, "grade-"));
    const result = await gradeLab(spec, gradeOptions({ journalDir: journal, rubric: alone(), part, disruptive: true, long }));
    return result.checks;
  });
}

/** The evidence a result rests on: its own, without what the runner adds or what says it was cut. */
function ownEvidence(result: CheckResult): Evidence[] {
  return result.evidence.filter((e) => !NOT_EVIDENCE.has(e.kind));
}

function describeResult(r: CheckResult): string {
  return `${r.id}: ${r.outcome} — ${r.message.en} ${JSON.stringify(ownEvidence(r)).slice(0, 400)}`;
}

/**
 * Checks whose commands need no root: with sudo refused they still read a correct lab and may
 * pass on it (the other checks' root commands never run).
 */
const ROOTLESS = new Set(["net.ip-forward", "net.gateway", "proxy.keepalived-stopped", "lvs.modules"]);
const mayPassWithout = (fault: SshFault) => (id: string) => fault === "sudo refused" && ROOTLESS.has(id);

const needsHttp = (id: string) => ALL_CHECKS.find((c) => c.id === id)?.needs.includes("http") ?? false;
const needsSsh = (id: string) => ALL_CHECKS.find((c) => c.id === id)?.needs.includes("ssh") ?? false;

beforeAll(async () => {
  journalDir = mkdtempSync(join(tmpdir(), "hagrade-missing-evidence-"));
  good = await startLoopbackLab(LOOPBACK);
}, 60_000);

afterAll(async () => {
  await good?.stop();
  rmSync(journalDir, { recursive: true, force: true });
});

/**
 * Every SSH fault meets an HTTP fault (in turn, so each of both lists is met): nothing can be
 * read at all. Then each fault alone, the other side working: the checks that need the broken
 * side never pass, and what passes cites the side that works.
 */
const BOTH = SSH_FAULTS.map((ssh, i) => [ssh, HTTP_FAULTS[i % HTTP_FAULTS.length]!] as const);

describe.each(PARTS)("part %s", (part) => {
  const vips = new Map<HttpFault, FaultyHttp>();
  beforeAll(async () => {
    for (const fault of HTTP_FAULTS) vips.set(fault, await startFaultyHttp(fault));
  });
  afterAll(async () => {
    await Promise.all([...vips.values()].map((v) => v.close()));
  });

  it.concurrent.each(BOTH)("every SSH command fails (%s) and the VIP fails (%s): no check passes", async (sshFault, httpFault) => {
    const results = await grade(part, vips.get(httpFault)!, sshFault);
    const passed = results.filter((r) => r.outcome === "pass");
    expect(passed.filter((r) => !mayPassWithout(sshFault)(r.id)).map(describeResult)).toEqual([]);
  }, 240_000);

  it.concurrent.each(HTTP_FAULTS)("the VIP fails (%s) with a correct lab behind SSH: no check that needs the VIP passes, SSH checks pass on what they read", async (httpFault) => {
    const results = await grade(part, vips.get(httpFault)!, undefined);
    const passed = results.filter((r) => r.outcome === "pass");
    expect(passed.filter((r) => needsHttp(r.id)).map(describeResult)).toEqual([]);
    for (const r of passed) expect(ownEvidence(r), describeResult(r)).not.toEqual([]);
    // Control: the scripted lab is correct, so what SSH alone decides passes.
    const sshOnly = part === "lvs" ? ["lvs.modules", "lvs.virtual-server", "net.ip-forward", "net.gateway"] : ["proxy.keepalived-stopped", "proxy.modules", "net.ip-forward", "net.gateway"];
    expect(results.filter((r) => sshOnly.includes(r.id) && r.outcome !== "pass").map(describeResult)).toEqual([]);
  }, 240_000);

  it.concurrent.each(SSH_FAULTS)("every SSH command fails (%s) with a working VIP: no SSH check passes, and a pass cites the VIP's traffic", async (sshFault) => {
    const results = await grade(part, good.apache, sshFault);
    const passed = results.filter((r) => r.outcome === "pass");
    expect(passed.filter((r) => needsSsh(r.id) && !mayPassWithout(sshFault)(r.id)).map(describeResult)).toEqual([]);
    for (const r of passed.filter((p) => !needsSsh(p.id))) expect(ownEvidence(r).some((e) => HTTP_KINDS.has(e.kind)), describeResult(r)).toBe(true);
  }, 240_000);

  // Alone, after the faults (it is not concurrent): it measures the working VIP's balance.
  it("control: with a working VIP and a correct lab behind SSH, the VIP's checks pass", async () => {
    const results = await grade(part, good.apache, undefined, { maxRequests: 400, long: false });
    const expected = part === "proxy" ? ["net.vip-http", "net.two-backends", "proxy.round-robin", "proxy.loadfactor", "proxy.routeid-cookie", "proxy.sticky"] : ["net.vip-http", "net.two-backends"];
    expect(results.filter((r) => expected.includes(r.id) && r.outcome !== "pass").map(describeResult)).toEqual([]);
  }, 240_000);
});

/**
 * net.nat with grader.natTarget.port set: hagrade does not listen there, so nothing it observes
 * says a web server's connection was masqueraded. With every SSH command failing, it must not
 * pass (issue 15 §4: it once passed on a natTarget.port with nothing observed).
 */
describe("net.nat with grader.natTarget.port set", () => {
  it("never passes when every SSH command fails", async () => {
    const passed: string[] = [];
    await Promise.all(
      SSH_FAULTS.map((fault) =>
        withMachines(async (machines) => {
          const lab = shape("proxy", good.apache);
          script(machines, lab, fault);
          // A free port: net.nat listens there itself, and nothing may arrive with SSH failing.
          const spec = await specFor(machines, lab, fault, 20, { address: "127.0.0.1", port: await closedPort("127.0.0.1") });
          const result = await gradeLab(spec, gradeOptions({ journalDir: mkdtempSync(join(journalDir, "nat-")), rubric: alone(), part: "proxy", only: ["net.nat"] }));
          passed.push(...result.checks.filter((r) => r.outcome === "pass").map((r) => `${fault}: ${describeResult(r)}`));
        }),
      ),
    );
    expect(passed).toEqual([]);
  }, 240_000);
});
