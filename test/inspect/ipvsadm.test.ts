import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { describe, expect, it } from "vitest";

import {
  findIpvsService,
  ipvsWeights,
  parseIpvsadmConnections,
  parseIpvsadmList,
  parseIpvsEndpoint,
  persistenceTemplates,
} from "../../src/inspect/index.js";
import { fixture } from "./helpers.js";

const ipvs = (name: string): string => fixture(`ipvsadm/${name}`);

describe("parseIpvsadmList", () => {
  it("reads the lab's wrr service with persistence, as LAB-FACTS shows it", () => {
    const table = parseIpvsadmList(ipvs("ipvsadm-Ln.lab-wrr-persistent.txt"));
    expect(table).toMatchObject({ format: "list", version: "1.2.1", size: 4096, problems: [], unparsed: [] });
    const service = findIpvsService(table, "203.0.113.10", 80);
    expect(service).toMatchObject({ protocol: "TCP", port: 80, scheduler: "wrr", persistent: 1200, flags: [] });
    expect(service?.realServers.map((server) => [server.address, server.port, server.forward, server.weight, server.activeConns, server.inactiveConns])).toEqual([
      ["10.200.0.11", 80, "Masq", 3, 0, 0],
      ["10.200.0.12", 80, "Masq", 1, 0, 0],
    ]);
    expect(ipvsWeights(service!)).toEqual({ "10.200.0.11:80": 3, "10.200.0.12:80": 1 });
  });

  it("reads a round-robin service without persistence and an empty table", () => {
    const service = parseIpvsadmList(ipvs("ipvsadm-Ln.lab-rr.txt")).services[0];
    expect(service?.scheduler).toBe("rr");
    expect(service?.persistent).toBeUndefined();
    expect(service?.realServers.map((server) => server.inactiveConns)).toEqual([14, 15]);
    const empty = parseIpvsadmList(ipvs("ipvsadm-Ln.empty.txt"));
    expect(empty).toMatchObject({ format: "list", services: [], problems: [], unparsed: [] });
  });

  it("reads forwarding methods, masks, UDP, IPv6, firewall marks and flags", () => {
    const table = parseIpvsadmList(ipvs("ipvsadm-Ln.variants.txt"));
    expect(table.unparsed).toEqual([]);
    expect(table.problems).toEqual([]);
    expect(table.services.map((service) => [service.protocol, service.address ?? service.fwmark, service.port, service.scheduler, service.persistent, service.mask, service.flags, service.ipv6])).toEqual([
      ["TCP", "198.18.0.80", 443, "sh", undefined, undefined, [], false],
      ["TCP", "203.0.113.10", 80, "wlc", 900, "255.255.255.0", [], false],
      ["UDP", "203.0.113.10", 53, "rr", undefined, undefined, ["ops"], false],
      ["TCP", "2001:db8::10", 80, "rr", 300, "64", [], true],
      ["FWM", 1, undefined, "wrr", 50, undefined, [], false],
      ["FWM", 2, undefined, "rr", undefined, undefined, [], true],
    ]);
    expect(table.services[0]?.realServers.map((server) => server.forward)).toEqual(["Route", "Tunnel"]);
    expect(table.services[1]?.realServers.map((server) => [server.port, server.forward, server.weight])).toEqual([
      [80, "Masq", 1],
      [8080, "Masq", 0],
      [80, "Local", 1],
    ]);
    expect(table.services[3]?.realServers[0]).toMatchObject({ address: "2001:db8::11", port: 80, ipv6: true });
    expect(findIpvsService(table, "203.0.113.10", 53, "UDP")?.flags).toEqual(["ops"]);
  });

  it("reads --stats and --rate, where the service line has counters and no scheduler", () => {
    const stats = parseIpvsadmList(ipvs("ipvsadm-Ln--stats.txt"));
    expect(stats.format).toBe("stats");
    expect(stats.problems).toEqual([]);
    expect(stats.services[0]?.scheduler).toBeUndefined();
    expect(stats.services[0]?.stats).toEqual({ conns: 12, inPackets: 660294, outPackets: 661999, inBytes: 78202968, outBytes: 184940000 });
    expect(stats.services[0]?.realServers.map((server) => server.stats?.conns)).toEqual([9, 3]);
    const rate = parseIpvsadmList(ipvs("ipvsadm-Ln--rate.txt"));
    expect(rate.format).toBe("rate");
    expect(rate.services[0]?.rate?.connsPerSecond).toBe(4);
    expect(rate.services[0]?.realServers.map((server) => server.rate?.connsPerSecond)).toEqual([3, 1]);
  });

  it("reads --thresholds, --persistent-conn and the rules of ipvsadm -Sn", () => {
    const thresholds = parseIpvsadmList(ipvs("ipvsadm-Ln--thresholds.txt"));
    expect(thresholds.services[0]?.realServers[1]).toMatchObject({ upperThreshold: 100, lowerThreshold: 50, activeConns: 0, inactiveConns: 2 });
    const persistent = parseIpvsadmList(ipvs("ipvsadm-Ln--persistent-conn.txt"));
    expect(persistent.services[0]?.realServers.map((server) => [server.weight, server.persistConns])).toEqual([
      [3, 2],
      [1, 1],
    ]);
    const rules = parseIpvsadmList(ipvs("ipvsadm-Sn.txt"));
    expect(rules.format).toBe("rules");
    expect(rules.unparsed).toEqual([]);
    expect(rules.services[0]).toMatchObject({ protocol: "TCP", address: "203.0.113.10", port: 80, scheduler: "wrr", persistent: 1200 });
    expect(rules.services[0]?.realServers.map((server) => [server.address, server.forward, server.weight])).toEqual([
      ["10.200.0.11", "Masq", 3],
      ["10.200.0.12", "Masq", 1],
    ]);
    expect(rules.services[1]).toMatchObject({ protocol: "FWM", fwmark: 1, scheduler: "rr" });
    expect(rules.services[1]?.realServers[0]?.forward).toBe("Route");
  });

  it("reads host and service names printed without -n", () => {
    const table = parseIpvsadmList(ipvs("ipvsadm-L.names.txt"));
    expect(table.services[0]).toMatchObject({ address: "balanceador.lab", port: 80, portName: "http" });
    expect(table.services[0]?.realServers.map((server) => [server.address, server.forward, server.weight])).toEqual([
      ["localhost", "Local", 5],
      ["ws1.lab", "Masq", 2],
    ]);
  });

  it("survives CRLF, tabs, missing headers, missing columns and garbage", () => {
    const noHeader = parseIpvsadmList("TCP  203.0.113.10:80 rr\r\n\t->\t10.200.0.11:80\tMasq\t1\t0\t0\r\n");
    expect(noHeader.services[0]?.realServers[0]).toMatchObject({ forward: "Masq", weight: 1 });
    const cut = parseIpvsadmList(`${ipvs("ipvsadm-Ln.lab-rr.txt")}  -> 10.200.0.13:80             Masq\nTCP  203.0.113.11:80\n`);
    expect(cut.problems.map((problem) => [problem.code, problem.line])).toEqual([
      ["real-server-columns", 7],
      ["service-without-scheduler", 8],
    ]);
    const denied = parseIpvsadmList("Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n");
    expect(denied.problems[0]?.code).toBe("not-ipvsadm-output");
    expect(denied.unparsed).toHaveLength(2);
    const orphan = parseIpvsadmList("  -> 10.200.0.11:80 Masq 1 0 0\n");
    expect(orphan.unparsed).toHaveLength(1);
    for (const garbage of ["", "\u0000", "TCP", "FWM x", "->", "-A", "-a -t 1:2 -r", "Prot LocalAddress:Port Conns InPkts\nTCP 1.2.3.4:80 1 2"]) {
      expect(() => parseIpvsadmList(garbage)).not.toThrow();
    }
    expect(parseIpvsadmList("").format).toBe("empty");
  });

  it("reads the timeouts line of ipvsadm -L --timeout", () => {
    expect(parseIpvsadmList("Timeout (tcp tcpfin udp): 900 120 300\n").timeouts).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
  });
});

describe("parseIpvsadmConnections", () => {
  it("reads states, expiry and persistence templates", () => {
    const table = parseIpvsadmConnections(ipvs("ipvsadm-Lnc.txt"));
    expect(table.unparsed).toEqual([]);
    expect(table.connections.map((connection) => connection.state)).toEqual([
      "ASSURED", "ESTABLISHED", "TIME_WAIT", "NONE", "SYN_RECV", "FIN_WAIT", "CLOSE", "UDP", "NONE", "ESTABLISHED",
    ]);
    expect(table.connections[0]).toMatchObject({
      protocol: "TCP",
      expire: "19:58",
      expireSeconds: 1198,
      isTemplate: true,
      source: { address: "198.51.100.50", port: 0 },
      virtual: { address: "203.0.113.10", port: 80 },
      destination: { address: "10.200.0.11", port: 80 },
    });
    // Minutes past 59 are printed as they are.
    expect(table.connections[3]).toMatchObject({ expire: "180:03", expireSeconds: 10803, isTemplate: true });
    expect(table.connections[9]?.source).toEqual({ address: "2001:db8::50", port: 40000, ipv6: true });
    const templates = persistenceTemplates(table);
    expect(templates.map((template) => [template.source.address, template.destination.address])).toEqual([
      ["198.51.100.50", "10.200.0.11"],
      ["198.51.100.51", "10.200.0.12"],
      ["198.51.100.55", "10.200.0.12"],
    ]);
  });

  it("reads an empty table, names, pe columns and skips watch's banner and garbage", () => {
    expect(parseIpvsadmConnections(ipvs("ipvsadm-Lnc.empty.txt"))).toEqual({ connections: [], problems: [], unparsed: [] });
    const names = parseIpvsadmConnections(ipvs("ipvsadm-Lc.names.txt")).connections[0];
    expect(names).toMatchObject({ state: "FIN_WAIT", virtual: { address: "balanceador.lab", port: 80, portName: "http" } });
    const text = [
      "Every 0.5s: ipvsadm -Ln -c                            Tue Dec 29 06:41:15 2015",
      "",
      "IPVS connection entries",
      "pro expire state       source             virtual            destination        pe name          pe_data",
      "UDP 04:59  ESTABLISHED 198.51.100.9:5060  203.0.113.10:5060  10.200.0.11:5060   sip              call-1@host",
      "TCP xx:yy  ESTABLISHED 1.2.3.4:1 5.6.7.8:2 9.9.9.9:3",
      "TCP 00:10  ESTABLISHED onlytwo 5.6.7.8:2",
    ].join("\r\n");
    const table = parseIpvsadmConnections(text);
    expect(table.connections).toHaveLength(1);
    expect(table.connections[0]).toMatchObject({ peName: "sip", peData: "call-1@host", expireSeconds: 299 });
    expect(table.unparsed.map((line) => line.line)).toEqual([6, 7]);
    for (const garbage of ["", "\u0000", "TCP", "TCP 1:1 X a b c"]) expect(() => parseIpvsadmConnections(garbage)).not.toThrow();
  });
});

describe("parseIpvsEndpoint", () => {
  it("reads IPv4, bracketed IPv6, names and bare addresses", () => {
    expect(parseIpvsEndpoint("10.200.0.11:80")).toEqual({ address: "10.200.0.11", port: 80, ipv6: false });
    expect(parseIpvsEndpoint("[2001:db8::1]:443")).toEqual({ address: "2001:db8::1", port: 443, ipv6: true });
    expect(parseIpvsEndpoint("ws1.lab:https")).toEqual({ address: "ws1.lab", port: 443, portName: "https", ipv6: false });
    expect(parseIpvsEndpoint("ws1.lab:gopher")).toEqual({ address: "ws1.lab", portName: "gopher", ipv6: false });
    expect(parseIpvsEndpoint("2001:db8::1")).toEqual({ address: "2001:db8::1", ipv6: true });
    expect(parseIpvsEndpoint("")).toBeUndefined();
  });
});

// Outputs captured from a real IPVS kernel by the project's VM lab, when it has run.
const vmCaptured = fileURLToPath(new URL("../../fixtures/vm/captured/", import.meta.url));
const vmFiles = existsSync(vmCaptured) ? readdirSync(vmCaptured).filter((name) => /ipvsadm/i.test(name)) : [];

describe.skipIf(vmFiles.length === 0)("ipvsadm outputs captured in the VM lab", () => {
  for (const name of vmFiles) {
    it(name, () => {
      const text = readFileSync(`${vmCaptured}${name}`, "utf8");
      if (/ipvsadm-Lnc/i.test(name) || /connection entries/i.test(text)) {
        const table = parseIpvsadmConnections(text);
        expect(table.unparsed).toEqual([]);
      } else {
        const table = parseIpvsadmList(text);
        expect(table.unparsed).toEqual([]);
        expect(table.problems.filter((problem) => problem.severity === "error")).toEqual([]);
        for (const service of table.services) {
          for (const server of service.realServers) expect(server.weight ?? server.stats ?? server.rate).toBeDefined();
        }
      }
    });
  }
});
