/**
 * lvs.modules from real outputs of the Part 1 VM (fixtures/vm/captured): /proc/modules with both
 * schedulers loaded, `lsmod` once keepalived is stopped, and `ipvsadm -Ln` of the rr and wrr 3:1
 * steps. keepalived loads ip_vs and the scheduler in use, so the rr step has ip_vs_rr only and the
 * wrr step ip_vs_wrr only: each is a correct lab. The VM grading of every variant
 * (test/checks/lvs-rubric.test.ts) runs the same check on the live lab.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { judgeModules, parseProcModules, requiredModules } from "../../checks/lvs/modules.js";
import { parseIpvsadmList } from "../../src/inspect/index.js";

const captured = (file: string) => readFileSync(new URL(`../../fixtures/vm/captured/${file}`, import.meta.url), "utf8");

/** The director's /proc/modules after keepalived started its service (both schedulers loaded). */
const BOTH = captured("proc-modules.txt");
const RR_TABLE = parseIpvsadmList(captured("ipvsadm-Ln-rr.txt"));
const WRR_TABLE = parseIpvsadmList(captured("ipvsadm-Ln-wrr-3-1.txt"));

/** The same /proc/modules as keepalived leaves it when it loaded one scheduler only: the other's line gone, and its name gone from ip_vs's users. */
function without(modules: string, name: string): string {
  return modules
    .split("\n")
    .filter((line) => !line.startsWith(`${name} `))
    .map((line) => line.replace(new RegExp(`\\b${name},`), ""))
    .join("\n");
}

/** `lsmod` is /proc/modules formatted: the same lines back in /proc/modules' own format. */
function procModulesFromLsmod(lsmod: string): string {
  return lsmod
    .split("\n")
    .slice(1)
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [name, size, used, deps] = line.trim().split(/\s+/);
      return `${name} ${size} ${used} ${deps ? `${deps},` : "-"} Live 0x0000000000000000`;
    })
    .join("\n");
}

function loaded(modules: string): Set<string> {
  const read = parseProcModules(modules);
  if (!read.ok) throw new Error(read.why.en);
  return read.loaded;
}

describe("lvs.modules requires ip_vs and the schedulers the virtual services use", () => {
  it("reads the captured /proc/modules", () => {
    expect([...loaded(BOTH)].filter((m) => m.startsWith("ip_vs")).sort()).toEqual(["ip_vs", "ip_vs_rr", "ip_vs_wrr"]);
  });

  it("wrr step: ip_vs and ip_vs_wrr pass, and ip_vs_rr is named with its modprobe line", () => {
    const modules = without(BOTH, "ip_vs_rr");
    expect(loaded(modules).has("ip_vs_rr")).toBe(false);
    const req = requiredModules({ lbAlgo: "wrr" }, WRR_TABLE, true);
    expect(req).toMatchObject({ required: ["ip_vs", "ip_vs_wrr"], source: "ipvs-table" });
    const verdict = judgeModules(loaded(modules), req);
    expect(verdict.outcome).toBe("pass");
    expect(verdict.notNeeded).toEqual(["ip_vs_rr"]);
    expect(verdict.message.en).toContain("modprobe ip_vs_rr");
    expect(verdict.message.es).toContain("modprobe ip_vs_rr");
  });

  it("rr step: ip_vs and ip_vs_rr pass, and ip_vs_wrr is named with its modprobe line", () => {
    const modules = without(BOTH, "ip_vs_wrr");
    const req = requiredModules({}, RR_TABLE, false);
    expect(req.required).toEqual(["ip_vs", "ip_vs_rr"]);
    const verdict = judgeModules(loaded(modules), req);
    expect(verdict.outcome).toBe("pass");
    expect(verdict.message.en).toContain("modprobe ip_vs_wrr");
  });

  it("the table decides over the spec: a service on wrr needs ip_vs_wrr even where the spec says rr", () => {
    const req = requiredModules({ lbAlgo: "rr" }, WRR_TABLE, false);
    expect(req.required).toEqual(["ip_vs", "ip_vs_wrr"]);
    const verdict = judgeModules(loaded(without(BOTH, "ip_vs_wrr")), req);
    expect(verdict.outcome).toBe("fail");
    expect(verdict.missing).toEqual(["ip_vs_wrr"]);
    expect(verdict.fix?.en).toContain("modprobe ip_vs_wrr");
  });

  it("keepalived stopped (no ip_vs at all, no table): the spec's scheduler is required, and the fix loads it", () => {
    const modules = procModulesFromLsmod(captured("lsmod-keepalived-stopped.txt"));
    expect([...loaded(modules)].some((m) => m.startsWith("ip_vs"))).toBe(false);
    const verdict = judgeModules(loaded(modules), requiredModules({ lbAlgo: "wrr" }, undefined, true));
    expect(verdict.outcome).toBe("fail");
    expect(verdict.missing).toEqual(["ip_vs", "ip_vs_wrr"]);
    expect(verdict.fix?.en).toMatch(/^modprobe ip_vs_wrr;/);
    expect(verdict.message.en).toContain("ip_vs_rr");
    // Without lbAlgo, unequal weights make it the wrr step, equal ones the rr step.
    expect(requiredModules({}, undefined, false).required).toEqual(["ip_vs", "ip_vs_rr"]);
    expect(requiredModules({}, parseIpvsadmList(""), true)).toMatchObject({ required: ["ip_vs", "ip_vs_wrr"], source: "step" });
  });

  it("expect.modules: a strict teacher's exact list fails the wrr step that lacks ip_vs_rr", () => {
    const req = requiredModules({ modules: ["ip_vs", "ip_vs_rr", "ip-vs-wrr"] }, WRR_TABLE, true);
    expect(req).toMatchObject({ required: ["ip_vs", "ip_vs_rr", "ip_vs_wrr"], source: "expect.modules" });
    const verdict = judgeModules(loaded(without(BOTH, "ip_vs_rr")), req);
    expect(verdict.outcome).toBe("fail");
    expect(verdict.missing).toEqual(["ip_vs_rr"]);
    expect(verdict.fix?.en).toContain("modprobe ip_vs_rr");
    expect(judgeModules(loaded(BOTH), req).outcome).toBe("pass");
  });

  it("an output that is not /proc/modules is no list: empty, lsmod's header, cut mid-line, noise", () => {
    expect(parseProcModules("").ok).toBe(false);
    expect(parseProcModules(captured("lsmod-keepalived-stopped.txt")).ok).toBe(false);
    const cut = BOTH.slice(0, BOTH.indexOf("ip_vs_rr") + "ip_vs".length);
    expect(parseProcModules(cut).ok).toBe(false);
    expect(parseProcModules("\x00\x1b[0m garbage\nip_vs\n").ok).toBe(false);
  });
});
