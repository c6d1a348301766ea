/**
 * The LVS lab's variants are described once and consistently: variants.json (expectations and
 * verdicts), the keepalived templates, the lab spec built from them, and the outputs captured
 * from the real lab (fixtures/vm/captured, index 1). No VM is booted here.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSpecText } from "../../src/config/index.js";
import {
  buildVmLabSpec,
  loadVariants,
  parseIpvsTable,
  specYaml,
  variantCheckIds,
  variantNames,
  vmLabAddresses,
} from "../../fixtures/vm/index.js";

const vmDir = join(import.meta.dirname, "..", "..", "fixtures", "vm");
const captured = (file: string) => readFileSync(join(vmDir, "captured", file), "utf8");
const template = (variant: string) => readFileSync(join(vmDir, "keepalived", `${variant}.conf`), "utf8");

describe("LVS lab variants", () => {
  const variants = loadVariants();

  it("has exactly one definition and one keepalived template per variant name", () => {
    expect(Object.keys(variants).sort()).toEqual([...variantNames].sort());
    const templates = readdirSync(join(vmDir, "keepalived")).map((file) => file.replace(/\.conf$/, ""));
    expect(templates.sort()).toEqual([...variantNames].sort());
  });

  it("gives every variant a verdict for every check id, from the documented values", () => {
    const ids = variantCheckIds();
    expect(ids).toEqual(expect.arrayContaining(["net.vip-http", "lvs.weights", "lvs.persistence-long", "lvs.failover"]));
    for (const name of variantNames) {
      const verdicts = variants[name].verdicts;
      expect(Object.keys(verdicts).sort(), name).toEqual([...ids].sort());
      for (const verdict of Object.values(verdicts)) expect(["pass", "fail", "not-pass", "any"]).toContain(verdict);
    }
    // Each broken variant fails at least one check; each correct one fails none.
    for (const name of ["rr", "wrr-3-1", "persistence-1200", "persistence-30", "http-get-correct", "final"] as const) {
      expect(Object.values(variants[name].verdicts), name).not.toContain("fail");
    }
    for (const name of variantNames.filter((n) => !["rr", "wrr-3-1", "persistence-1200", "persistence-30", "http-get-correct", "final"].includes(n))) {
      expect(Object.values(variants[name].verdicts), name).toContain("fail");
    }
  });

  it("matches each template's lb_algo, weights, persistence and checker to the expected table", () => {
    for (const name of variantNames) {
      const text = template(name);
      const { table } = variants[name];
      const algo = /lb_algo (\w+)/.exec(text)?.[1];
      const weights = [...text.matchAll(/weight (\d+)/g)].map((match) => Number(match[1]));
      const persistence = Number(/persistence_timeout (\d+)/.exec(text)?.[1] ?? 0);
      if (table === null) {
        expect(variants[name].keepalived, name).toBe("stopped");
        continue;
      }
      expect(algo, name).toBe(table.scheduler);
      expect(persistence || null, name).toBe(table.persistenceTimeout);
      // A server that fails its HTTP_GET is configured but not in the table.
      if (name !== "http-get-wrong-digest") expect(weights, name).toEqual(Object.values(table.realServers));
      expect(text.includes("HTTP_GET"), name).toBe(name.startsWith("http-get") || name === "final");
    }
  });

  it("builds a lab spec that states the teacher's expectation, not the variant's configuration", () => {
    for (const name of variantNames) {
      const spec = buildVmLabSpec(7, name, "/tmp/hagrade-vm/hgvm7");
      expect(spec.lab).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
      expect(spec.vip.address).toBe("10.230.7.10");
      expect(spec.grader.sourceAddresses).toHaveLength(64);
      expect(spec.expect).toEqual({
        lbAlgo: variants[name].expect.lbAlgo,
        persistenceTimeout: variants[name].expect.persistenceTimeout,
      });
      const weights = spec.backends.map((backend) => backend.weight);
      expect(weights, name).toEqual(variants[name].expect.weights === null ? [undefined, undefined] : [3, 1]);
    }
    expect(buildVmLabSpec(7, "wrr-1-1", "/x").backends.map((backend) => backend.weight)).toEqual([3, 1]);
    expect(buildVmLabSpec(7, "persistence-0", "/x").expect.persistenceTimeout).toBe(1200);
  });

  it("builds specs that hagrade's own spec loader accepts without a warning", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "hgvm-spec-"));
    try {
      execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(stateDir, "id_ed25519")]);
      writeFileSync(join(stateDir, "known_hosts"), "");
      for (const name of variantNames) {
        const result = await parseSpecText(specYaml(buildVmLabSpec(7, name, stateDir)), { baseDir: stateDir, sourceName: name });
        expect(result.ok ? result.warnings : result.problems, name).toEqual([]);
      }
      // Two directors: the spec names director2 as the MASTER's VRRP BACKUP (lvs.vrrp-failover).
      const pair = await parseSpecText(specYaml(buildVmLabSpec(7, "rr", stateDir, 2)), { baseDir: stateDir, sourceName: "rr, two directors" });
      expect(pair.ok ? pair.warnings : pair.problems).toEqual([]);
      expect(pair.ok && pair.spec.balancer.backup).toEqual({ serviceAddress: vmLabAddresses(7).backupDirector });
      expect(buildVmLabSpec(7, "rr", stateDir).balancer.backup).toBeUndefined();
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("has real ipvsadm and keepalived.conf captures that show each variant's table", () => {
    const addresses = vmLabAddresses(1);
    for (const name of variantNames) {
      expect(existsSync(join(vmDir, "captured", `keepalived-${name}.conf`)), name).toBe(true);
      expect(captured(`keepalived-${name}.conf`)).toContain(`virtual_server ${addresses.vip} 80 {`);
      expect(parseIpvsTable(captured(`ipvsadm-Ln-${name}.txt`), addresses), name).toEqual(variants[name].table);
    }
    expect(captured("ipvsadm-Lnc-persistent.txt")).toMatch(/^TCP 1\d:\d\d {2}ASSURED {5}10\.230\.1\.100:0 /m);
    expect(captured("genhash.txt").trim()).toBe(captured("md5sum-index-ws1.txt").slice(0, 32));
    for (const file of ["lsmod.txt", "proc-modules.txt", "ip-route-ws1.txt", "nft-list-ruleset-director.txt", "ipvsadm-Ln-stats.txt", "ipvsadm-Ln-rate.txt"]) {
      expect(captured(file).length, file).toBeGreaterThan(0);
    }
  });
});
