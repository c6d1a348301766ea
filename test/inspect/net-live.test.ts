/**
 * The network readers against the real tools, inside a network namespace this test
 * creates and deletes: rulesets are loaded with nft and iptables, read back in every
 * rendering, and judged; no packet leaves the namespace (none is even sent).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { defaultRoute, natCovers, parseFirewall, parseIpForward, parseIpRoute } from "../../src/inspect/index.js";
import { hasCommand, isRoot, run, runOk } from "./helpers.js";

const NS = `hgtest-inspect-live-${process.pid}`;
const canRun = isRoot() && hasCommand("ip") && hasCommand("nft");

function inNs(command: string, ...args: string[]): string {
  return runOk("ip", ["netns", "exec", NS, command, ...args]);
}

/** Loads a ruleset written on one line: nft wants a newline or ";" between closing braces. */
function nftLoad(ruleset: string): void {
  runOk("ip", ["netns", "exec", NS, "nft", "-f", "-"], `flush ruleset\n${ruleset.replace(/\}/g, "}\n")}`);
}

describe.skipIf(!canRun)("network readers on a live namespace", () => {
  beforeAll(() => {
    run("ip", ["netns", "del", NS]);
    runOk("ip", ["netns", "add", NS]);
    runOk("ip", ["-n", NS, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1"]);
    runOk("ip", ["-n", NS, "addr", "add", "10.221.1.1/24", "dev", "eth1"]);
    runOk("ip", ["-n", NS, "addr", "add", "10.221.9.2/24", "dev", "eth0"]);
    runOk("ip", ["-n", NS, "link", "set", "eth0", "up"]);
    runOk("ip", ["-n", NS, "link", "set", "eth1", "up"]);
  });
  afterAll(() => {
    run("ip", ["netns", "del", NS]);
  });

  it("tells a masquerade of the server network from one of another network, in JSON and text", () => {
    nftLoad('table ip nat { chain postrouting { type nat hook postrouting priority srcnat; ip saddr 10.221.1.0/24 oifname "eth0" masquerade; } }\n');
    for (const args of [["-j", "list", "ruleset"], ["list", "ruleset"]]) {
      const ruleset = parseFirewall(inNs("nft", ...args));
      expect(ruleset.natRules).toHaveLength(1);
      expect(natCovers(ruleset, "10.221.1.0/24", { outInterface: "eth0" }).covered).toBe(true);
    }
    nftLoad('table ip nat { chain postrouting { type nat hook postrouting priority srcnat; ip saddr 10.221.7.0/24 oifname "eth0" masquerade; } }\n');
    for (const args of [["-j", "list", "ruleset"], ["list", "ruleset"]]) {
      const coverage = natCovers(parseFirewall(inNs("nft", ...args)), "10.221.1.0/24", { outInterface: "eth0" });
      expect(coverage.covered).toBe(false);
      expect(coverage.reason).toMatch(/10\.221\.7\.0\/24/);
    }
  });

  it("finds no NAT in an empty ruleset and a NAT in a snat to the balancer's address", () => {
    nftLoad("");
    expect(natCovers(parseFirewall(inNs("nft", "-j", "list", "ruleset")), "10.221.1.0/24").covered).toBe(false);
    nftLoad("table inet nat { chain post { type nat hook postrouting priority 100; policy accept; ip saddr 10.221.0.0/16 snat ip to 10.221.9.2; } }\n");
    const json = parseFirewall(inNs("nft", "-j", "list", "ruleset"));
    const text = parseFirewall(inNs("nft", "list", "ruleset"));
    for (const ruleset of [json, text]) {
      expect(natCovers(ruleset, "10.221.1.0/24").by).toMatchObject({ kind: "snat", family: "inet", target: "10.221.9.2" });
    }
  });

  it("sees a FORWARD chain that drops, and one that accepts", () => {
    nftLoad("table inet filter { chain forward { type filter hook forward priority 0; policy drop; } }\n");
    expect(parseFirewall(inNs("nft", "-j", "list", "ruleset")).forwardFilters[0]).toMatchObject({ policy: "drop", filters: true });
    nftLoad("table inet filter { chain forward { type filter hook forward priority 0; policy accept; } }\n");
    expect(parseFirewall(inNs("nft", "list", "ruleset")).forwardFilters[0]).toMatchObject({ policy: "accept", filters: false });
  });

  it.skipIf(!hasCommand("iptables"))("reads iptables-nft rules back from iptables-save and nft", () => {
    nftLoad("");
    inNs("iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "10.221.1.0/24", "-j", "MASQUERADE");
    inNs("iptables", "-P", "FORWARD", "DROP");
    for (const output of [inNs("iptables-save"), inNs("iptables", "-t", "nat", "-S"), inNs("nft", "-j", "list", "ruleset"), inNs("nft", "list", "ruleset")]) {
      expect(natCovers(parseFirewall(output), "10.221.1.0/24").covered).toBe(true);
      expect(natCovers(parseFirewall(output), "10.221.2.0/24").covered).toBe(false);
    }
    expect(parseFirewall(inNs("iptables-save")).forwardFilters[0]).toMatchObject({ chain: "FORWARD", policy: "drop" });
  });

  it("reads the default route from ip -j route and ip route, and its absence", () => {
    runOk("ip", ["-n", NS, "route", "replace", "default", "via", "10.221.9.1", "dev", "eth0"]);
    for (const output of [runOk("ip", ["-n", NS, "-j", "route"]), runOk("ip", ["-n", NS, "route"])]) {
      expect(defaultRoute(parseIpRoute(output))).toMatchObject({ gateway: "10.221.9.1", dev: "eth0" });
    }
    runOk("ip", ["-n", NS, "route", "del", "default"]);
    for (const output of [runOk("ip", ["-n", NS, "-j", "route"]), runOk("ip", ["-n", NS, "route"])]) {
      expect(defaultRoute(parseIpRoute(output))).toBeUndefined();
    }
  });

  it("reads ip_forward as it is switched", () => {
    inNs("sysctl", "-q", "-w", "net.ipv4.ip_forward=0");
    expect(parseIpForward(inNs("sysctl", "-n", "net.ipv4.ip_forward")).enabled).toBe(false);
    inNs("sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
    expect(parseIpForward(inNs("sysctl", "net.ipv4.ip_forward")).enabled).toBe(true);
    expect(parseIpForward(inNs("cat", "/proc/sys/net/ipv4/ip_forward")).enabled).toBe(true);
  });
});
