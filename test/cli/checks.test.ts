/**
 * `hagrade checks`, `--only` and the maximum score, through the real command line: every check
 * listed in the chosen language, a typo in `--only` refused with a did-you-mean (never a green
 * 0/0), and a maximum that depends on the spec and the options, never on what the lab did.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_CHECKS, checksForPart } from "../../checks/index.js";
import type { RunResult } from "../../src/model/index.js";
import { loopbackSpecFields, startLoopbackLab, type LoopbackLab } from "../probe/loopback-lab.js";
import { STACK_LINE, hagrade } from "./hagrade.js";

describe("hagrade checks", () => {
  it("lists every check with its part, points, needs and title, in the chosen language", async () => {
    const [en, es] = await Promise.all([hagrade(["checks", "--lang", "en"]), hagrade(["checks"])]);
    expect([en.code, es.code], en.stderr + es.stderr).toEqual([0, 0]);
    for (const c of ALL_CHECKS) {
      const row = en.stdout.split("\n").find((l) => l.startsWith(`${c.id} `));
      expect(row, c.id).toBeDefined();
      expect(row!.split(/ {2,}/)).toEqual([c.id, c.part, String(c.points), c.needs.join(","), c.title.en]);
      expect(es.stdout).toContain(c.title.es);
    }
    expect(en.stdout).toMatch(/^ID +PART +POINTS +NEEDS +TITLE$/m);
    expect(es.stdout).toMatch(/^ID +PARTE +PUNTOS +NECESITA +TÍTULO$/m);
    const proxyPoints = checksForPart("proxy").reduce((s, c) => s + c.points, 0);
    expect(en.stdout).toContain(`part 2 (proxy): ${checksForPart("proxy").length} checks, ${proxyPoints} points`);
  });

  it("--part narrows the list, --json gives it to scripts", async () => {
    const r = await hagrade(["checks", "--part", "lvs", "--json", "--lang", "en"]);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as { id: string; part: string; points: number; needs: string[]; title: string }[];
    expect(list.map((c) => c.id)).toEqual(checksForPart("lvs").map((c) => c.id));
    expect(list.find((c) => c.id === "lvs.failover")).toMatchObject({ part: "lvs", points: 2, needs: ["http", "ssh", "disruptive"] });
    const bad = await hagrade(["checks", "--part", "auto"]);
    expect(bad.code).toBe(2);
  });
});

describe("--only with a check id that does not exist", () => {
  it.each([
    ["run", "proxy.stiky", "proxy.sticky"],
    ["run", "net.vip-http,lvs.weigths", "lvs.weights"],
    ["batch", "sticky", "proxy.sticky"],
  ])("%s --only %s: exit 2 naming it, with did you mean %s, and nothing graded", async (command, only, suggestion) => {
    const dir = await mkdtemp(join(tmpdir(), "hagrade-only-"));
    try {
      // A spec that loads: the typo must be caught before any grading, whatever the spec says.
      const spec = join(dir, "lab.json");
      await writeFile(spec, JSON.stringify({ lab: "typo", part: "proxy", ...loopbackSpecFields({ address: "127.0.0.1", port: 1 }, []) }));
      const args = command === "run" ? ["run", "--spec", spec] : ["batch", "--roster", join(dir, "roster.csv"), "--spec-template", spec];
      const r = await hagrade([...args, "--only", only], dir);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(r.stderr).toContain(`unknown check "${only.split(",").pop()!}"`);
      expect(r.stderr).toContain(`did you mean ${suggestion}?`);
      expect(r.stderr).not.toMatch(STACK_LINE);
      expect(r.stdout).toBe("");
      expect(existsSync(join(dir, "reports"))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the maximum score depends on the spec and the options, not on the lab", () => {
  let lab: LoopbackLab;
  let dir: string;
  beforeAll(async () => {
    lab = await startLoopbackLab(170);
    dir = await mkdtemp(join(tmpdir(), "hagrade-max-"));
  }, 60_000);
  afterAll(async () => {
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function grade(name: string, vip: { address: string; port: number }, extra: string[]): Promise<RunResult> {
    const spec = join(dir, `${name}.json`);
    await writeFile(spec, JSON.stringify({ lab: name, part: "proxy", lang: "en", ...loopbackSpecFields(vip, [lab.ws1, lab.ws2]) }));
    const cwd = join(dir, name);
    await mkdir(cwd);
    const json = join(cwd, "result.json");
    const r = await hagrade(["run", "--spec", spec, "--reporter", "json", "--json", json, ...extra], cwd);
    expect(r.code, r.stderr).toBe(1);
    return JSON.parse(await readFile(json, "utf8")) as RunResult;
  }

  it("a VIP that refuses and one that answers give the same maximum, with and without --disruptive", async () => {
    // The balancer answers (its loadfactor expectation of 1:1 holds) or nothing listens at all.
    const answering = await grade("answering", lab.apache, []);
    const refusing = await grade("refusing", { address: lab.apache.address, port: 1 }, []);
    expect(answering.checks.find((c) => c.id === "net.vip-http")?.outcome).toBe("pass");
    expect(refusing.checks.find((c) => c.id === "net.vip-http")?.outcome).toBe("fail");
    // proxy.failover depends on net.vip-http and is disruptive: out of the maximum either way.
    const all = checksForPart("proxy").reduce((s, c) => s + c.points, 0);
    const failover = checksForPart("proxy").find((c) => c.id === "proxy.failover")!.points;
    expect([answering.maxScore, refusing.maxScore]).toEqual([all - failover, all - failover]);
    for (const r of [answering, refusing]) expect(r.checks.find((c) => c.id === "proxy.failover")).toMatchObject({ outcome: "skipped", notRequested: true, maxPoints: 0 });

    // Asked for, it counts whatever the lab did (a failing dependency skips it, inside the maximum).
    const refusingAll = await grade("refusing-disruptive", { address: lab.apache.address, port: 1 }, ["--disruptive", "--only", "net.vip-http,proxy.failover"]);
    expect(refusingAll.maxScore).toBe(1 + failover);
    expect(refusingAll.checks.find((c) => c.id === "proxy.failover")).toMatchObject({ outcome: "skipped", maxPoints: failover });
  }, 300_000);
});
