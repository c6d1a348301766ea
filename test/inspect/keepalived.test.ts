import { readdirSync } from "node:fs";

import { describe, expect, it } from "vitest";

import {
  digestsEqual,
  keepalivedIncludesFrom,
  keepalivedModel,
  parseGenhashOutput,
  parseKeepalivedConfig,
  parseKeepalivedConfigtest,
  type KeepalivedModel,
} from "../../src/inspect/index.js";
import { fixture, fixturesDir } from "./helpers.js";

function model(name: string, configId?: string): KeepalivedModel {
  const ast = parseKeepalivedConfig(fixture(`keepalived/${name}`), { file: `/etc/keepalived/${name}` });
  return keepalivedModel(ast, configId === undefined ? {} : { configId });
}

const codes = (m: KeepalivedModel): Array<[string, number | undefined]> => m.problems.map((problem) => [problem.code, problem.line]);

describe("keepalivedModel on the lab's configurations", () => {
  it("reads the lab text's file as written and tells what keepalived 2.2.7 rejects", () => {
    const m = model("lab-as-written.conf");
    expect(m.globalDefs).toMatchObject({ routerId: "LVS_PRACTICA", routerIdKeyword: "lvs_id" });
    expect(m.virtualServers).toHaveLength(1);
    const vs = m.virtualServers[0];
    expect(vs).toMatchObject({ kind: "address", address: "ip_publica_balanceador", port: 80, delayLoop: 3, lbAlgo: "rr", lbKind: "NAT", persistenceTimeout: 0, protocol: "TCP" });
    expect(vs?.realServers.map((server) => [server.address, server.port, server.weight])).toEqual([
      ["ip_webserver1", 80, 1],
      ["ip_webserver2", 80, 1],
    ]);
    expect(vs?.realServers[0]?.checks[0]).toMatchObject({ type: "TCP_CHECK", connectPort: 80, effectivePort: 80, connectTimeout: 3, line: 15 });
    expect(codes(m)).toEqual([
      ["lvs-id-unknown", 2],
      ["not-an-ip-address", 5],
      ["persistence-timeout-zero", 10],
      ["not-an-ip-address", 13],
      ["not-an-ip-address", 21],
    ]);
    expect(m.problems.find((problem) => problem.code === "persistence-timeout-zero")?.message).toMatch(/delete the line/);
  });

  it("reads wrr 3:1 with 20 minutes of persistence", () => {
    const m = model("lab-wrr-persistent.conf");
    expect(m.problems).toEqual([]);
    expect(m.virtualServers[0]).toMatchObject({ address: "203.0.113.10", port: 80, lbAlgo: "wrr", persistenceTimeout: 1200 });
    expect(m.virtualServers[0]?.realServers.map((server) => server.weight)).toEqual([3, 1]);
  });

  it("reads HTTP_GET checks written with keepalived 1.x and 2.x keywords", () => {
    const m = model("lab-http-get.conf");
    expect(codes(m)).toEqual([["nb-get-retry-deprecated", 20]]);
    const [first, second] = m.virtualServers[0]?.realServers ?? [];
    expect(m.virtualServers[0]).toMatchObject({ lbAlgo: "rr", lbKind: "NAT" });
    expect(first?.checks[0]).toMatchObject({ type: "HTTP_GET", retry: 3, retryKeyword: "nb_get_retry", delayBeforeRetry: 1, effectivePort: 80 });
    expect(first?.checks[0]?.urls[0]).toMatchObject({ path: "/index.html", digest: "55fe05639c7068cd074a2fed17404247", statusCodeGiven: false, statusCodes: [{ min: 200, max: 299 }] });
    expect(second?.checks[0]).toMatchObject({ retry: 2, retryKeyword: "retry", connectPort: 8080, effectivePort: 8080 });
    expect(second?.checks[0]?.urls[0]?.statusCodes).toEqual([{ min: 200, max: 200 }]);
    expect(digestsEqual(first?.checks[0]?.urls[0]?.digest, "55FE05639C7068CD074A2FED17404247")).toBe(true);
  });

  it("reads the odd but valid syntax keepalived accepts", () => {
    const m = model("odd-syntax.conf");
    expect(m.problems).toEqual([]);
    expect(m.globalDefs.routerId).toBe("LVS PRACTICA");
    const vs = m.virtualServers[0];
    expect(vs).toMatchObject({ lbAlgo: "wrr", lbKind: "NAT", protocol: "TCP" });
    expect(vs?.realServers.map((server) => [server.address, server.weight, server.checks[0]?.connectTimeout])).toEqual([
      ["10.200.0.11", 2, 3],
      ["10.200.0.12", 1, 1.5],
    ]);
  });

  it("places real_server after an extra '}' outside the virtual_server, on the lines keepalived names", () => {
    const m = model("broken-braces.conf");
    expect(codes(m)).toEqual([
      ["unmatched-close-brace", 15],
      ["statement-outside-block", 12],
    ]);
    expect(m.virtualServers[0]?.realServers).toHaveLength(1);
  });
});

describe("keepalivedModel on the samples shipped with keepalived 2.2.7", () => {
  const samples = readdirSync(`${fixturesDir}keepalived`).filter((name) => name.startsWith("keepalived.conf."));

  it("parses every sample without a problem", () => {
    expect(samples.length).toBeGreaterThanOrEqual(8);
    for (const name of samples) expect(model(name).problems, name).toEqual([]);
  });

  it("reads HTTP_GET, SSL_GET with connect_port, status codes, MISC_CHECK, fwmark and groups", () => {
    const sample = model("keepalived.conf.sample");
    expect(sample.globalDefs).toMatchObject({ routerId: "LVS_DEVEL", notificationEmail: ["acassen"], smtpServer: "192.168.200.1" });
    expect(sample.virtualServers[0]).toMatchObject({ address: "10.10.10.2", port: 1358, delayLoop: 6, persistenceTimeout: 50, sorryServer: { address: "192.168.200.200", port: 1358 } });
    expect(sample.virtualServers[0]?.realServers[0]?.checks[0]?.urls[0]?.digest).toBe("640205b7b0fc66c1ea91c463fac6334d");
    expect(sample.vrrpInstances[0]).toMatchObject({ name: "VI_1", interface: "eth0", virtualRouterId: 50, nopreempt: true, priority: 100, advertInt: 1 });
    expect(sample.vrrpInstances[0]?.virtualIpAddresses).toEqual(["192.168.200.11", "192.168.200.12", "192.168.200.13"]);

    expect(model("keepalived.conf.HTTP_GET.port").virtualServers[0]?.realServers[0]?.checks[0]).toMatchObject({ type: "SSL_GET", connectPort: 444, effectivePort: 444 });
    const status = model("keepalived.conf.status_code").virtualServers[0]?.realServers[0]?.checks[0]?.urls;
    expect(status?.[0]?.statusCodes).toEqual([
      { min: 200, max: 299 },
      { min: 400, max: 499 },
      { min: 503, max: 503 },
      { min: 505, max: 505 },
    ]);
    expect(status?.[1]).toMatchObject({ path: "/mrtg/", digest: "9b3a0c85a887a256d6939da88aabd8cd", statusCodes: [{ min: 200, max: 200 }] });
    expect(model("keepalived.conf.misc_check").virtualServers[0]?.realServers[0]?.checks[0]).toMatchObject({ type: "MISC_CHECK", miscPath: "/usr/local/bin/script.sh" });
    const fwmark = model("keepalived.conf.fwmark").virtualServers[0];
    expect(fwmark).toMatchObject({ kind: "fwmark", fwmark: 1, persistenceTimeout: 900 });
    expect(fwmark?.realServers[0]?.address).toBe("192.168.201.100");
    expect(fwmark?.realServers[0]?.port).toBeUndefined();
    expect(fwmark?.realServers[0]?.checks[0]?.effectivePort).toBe(80);
    const group = model("keepalived.conf.virtual_server_group");
    expect(group.virtualServers[0]).toMatchObject({ kind: "group", group: "VSG_1" });
    expect(group.virtualServerGroups[0]?.members).toContainEqual(["192.168.200.3-10", "80"]);
    expect(group.virtualServerGroups[0]?.members).toContainEqual(["fwmark", "1"]);
  });

  it("never keeps the VRRP password", () => {
    const ast = parseKeepalivedConfig(fixture("keepalived/keepalived.conf.vrrp"));
    expect(JSON.stringify(ast)).not.toContain("1111");
    const m = keepalivedModel(ast);
    expect(JSON.stringify(m)).not.toContain("1111");
    expect(m.vrrpInstances[0]).toMatchObject({ authType: "PASS", authPassSet: true, state: "MASTER" });
  });

  it("applies @name lines only for the instance they name", () => {
    expect(model("keepalived.conf.conditional_conf").vrrpInstances[0]?.priority).toBeUndefined();
    expect(model("keepalived.conf.conditional_conf", "high").vrrpInstances[0]?.priority).toBe(170);
    expect(model("keepalived.conf.conditional_conf", "low").vrrpInstances[0]).toMatchObject({ priority: 85, trackScripts: ["check_VI_0"], trackInterfaces: ["eth3", "eth2"] });
  });
});

describe("parseKeepalivedConfig odd cases", () => {
  it("keeps line numbers through CRLF, tabs, continuations and comments", () => {
    const text = "! header\r\nvirtual_server 10.0.0.1 \\\r\n   80 {\r\n\tprotocol TCP # tcp\r\n\treal_server 10.0.0.2 80 {\r\n\t}\r\n}\r\n";
    const ast = parseKeepalivedConfig(text);
    expect(ast.problems).toEqual([]);
    expect(ast.nodes[0]).toMatchObject({ keyword: "virtual_server", args: ["10.0.0.1", "80"], line: 2, endLine: 7 });
    expect(ast.nodes[0]?.children?.[1]).toMatchObject({ keyword: "real_server", line: 5, endLine: 6 });
  });

  it("substitutes $NAME definitions", () => {
    const m = keepalivedModel(parseKeepalivedConfig("$VIP=203.0.113.10\nvirtual_server $VIP 80 {\n protocol TCP\n real_server ${VIP} 80 {\n }\n}\n"));
    expect(m.virtualServers[0]?.address).toBe("203.0.113.10");
    expect(m.virtualServers[0]?.realServers[0]?.address).toBe("203.0.113.10");
  });

  it("reports unclosed blocks, lone braces, quotes and bad values without throwing", () => {
    const unclosed = parseKeepalivedConfig("virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n");
    expect(unclosed.problems.map((problem) => [problem.code, problem.line])).toEqual([
      ["unclosed-block", 2],
      ["unclosed-block", 1],
    ]);
    expect(parseKeepalivedConfig("{\n}\n").problems[0]?.code).toBe("block-without-keyword");
    expect(parseKeepalivedConfig('global_defs {\n router_id "open\n}\n').problems[0]?.code).toBe("unterminated-quote");
    const bad = keepalivedModel(
      parseKeepalivedConfig(
        "virtual_server 10.0.0.1 99999 {\n lb_algo roundrobin\n lb_kind MASQ\n delay_loop three\n real_server 10.0.0.2 80 {\n  HTTP_GET {\n   connect_timeout 3\n  }\n  SSL_GET {\n   url {\n    digest 123\n   }\n  }\n }\n}\n",
      ),
    );
    expect(codes(bad)).toEqual([
      ["invalid-port", 1],
      ["unknown-scheduler", 2],
      ["unknown-forwarding-method", 3],
      ["invalid-number", 4],
      ["http-check-without-url", 6],
      ["invalid-digest", 11],
      ["url-without-path", 10],
      ["protocol-missing", 1],
    ]);
    for (const garbage of ["}", "{{{{", "\u0000", '"', "include", "virtual_server", "real_server {", "@", "$=", "\\"]) {
      expect(() => keepalivedModel(parseKeepalivedConfig(garbage))).not.toThrow();
    }
  });

  it("reads include globs through the callback, relative to the including file", () => {
    const files = [
      { path: "/etc/keepalived/conf.d/10-vs.conf", text: "virtual_server 203.0.113.10 80 {\n protocol TCP\n include ../rs/*.conf\n}\n" },
      { path: "/etc/keepalived/rs/a.conf", text: "real_server 10.200.0.11 80 {\n weight 3\n}\n" },
      { path: "/etc/keepalived/rs/b.conf", text: "real_server 10.200.0.12 80 {\n weight 1\n}\n" },
    ];
    const ast = parseKeepalivedConfig("global_defs {\n router_id X\n}\ninclude conf.d/*.conf\n", {
      file: "/etc/keepalived/keepalived.conf",
      readInclude: keepalivedIncludesFrom(files),
    });
    expect(ast.files).toEqual(["/etc/keepalived/keepalived.conf", ...files.map((file) => file.path)]);
    const m = keepalivedModel(ast);
    expect(m.problems).toEqual([]);
    expect(m.virtualServers[0]?.realServers.map((server) => [server.address, server.weight, server.file, server.line])).toEqual([
      ["10.200.0.11", 3, "/etc/keepalived/rs/a.conf", 1],
      ["10.200.0.12", 1, "/etc/keepalived/rs/b.conf", 1],
    ]);
    const failing = parseKeepalivedConfig("include /etc/keepalived/x.conf\n", { readInclude: () => ({ error: "Permission denied" }) });
    expect(failing.problems[0]).toMatchObject({ code: "include-unreadable", line: 1 });
    const loop = parseKeepalivedConfig("include /k.conf\n", { file: "/k.conf", readInclude: keepalivedIncludesFrom([{ path: "/k.conf", text: "include /k.conf\n" }]), maxIncludeDepth: 3 });
    expect(loop.problems.map((problem) => problem.code)).toEqual(["include-too-deep"]);
  });
});

describe("parseGenhashOutput", () => {
  it("reads keepalived 2.x plain and verbose output and 1.x output", () => {
    expect(parseGenhashOutput("55fe05639c7068cd074a2fed17404247\n")).toMatchObject({ digest: "55fe05639c7068cd074a2fed17404247", problems: [] });
    const verbose = [
      "-----------------------[    HTTP Header Buffer    ]-----------------------",
      "0000  48 54 54 50 2f 31 2e 31 - 20 32 30 30 20 4f 4b 0d   HTTP/1.1 200 OK.",
      "-----------------------[ HTML hash final resulting ]-----------------------",
      "c7f5d1f733ab6b268ce3981cc2e48818",
      "",
      "Global response time for [/chunked] = 3676 usecs",
    ].join("\n");
    expect(parseGenhashOutput(verbose)).toMatchObject({ digest: "c7f5d1f733ab6b268ce3981cc2e48818", responseTimeMicroseconds: 3676 });
    const old = "MD5SUM = 640205B7B0FC66C1EA91C463FAC6334D\nWARNING - Content-Length (26) does not match received bytes (25).\n\n";
    expect(parseGenhashOutput(old)).toMatchObject({ digest: "640205b7b0fc66c1ea91c463fac6334d", contentLengthMismatch: { contentLength: 26, received: 25 } });
  });

  it("reports no digest, errors and garbage", () => {
    expect(parseGenhashOutput("").problems[0]?.code).toBe("genhash-no-digest");
    expect(parseGenhashOutput("no data received from remote webserver\n").problems[0]?.code).toBe("genhash-failed");
    expect(parseGenhashOutput("12345\nzz\n").digest).toBeUndefined();
  });
});

describe("parseKeepalivedConfigtest", () => {
  it("reads keepalived -t messages with and without file, once each", () => {
    const output = [
      "(Line 2) Unknown keyword 'lvs_id'",
      "(/etc/keepalived/keepalived.conf: Line 10) number '0' outside range [1, 2678400]",
      "(/etc/keepalived/keepalived.conf: Line 10) persistence_timeout invalid",
      "(/etc/keepalived/keepalived.conf: Line 2) Unknown keyword 'lvs_id'",
      "Virtual server [10.0.0.1]:tcp:80: no forwarding method set, setting default NAT",
    ].join("\n");
    expect(parseKeepalivedConfigtest(output).messages).toEqual([
      { line: 2, message: "Unknown keyword 'lvs_id'", file: "/etc/keepalived/keepalived.conf" },
      { line: 10, message: "number '0' outside range [1, 2678400]", file: "/etc/keepalived/keepalived.conf" },
      { line: 10, message: "persistence_timeout invalid", file: "/etc/keepalived/keepalived.conf" },
      { message: "Virtual server [10.0.0.1]:tcp:80: no forwarding method set, setting default NAT" },
    ]);
  });
});
