import { describe, expect, it } from "vitest";

import {
  defaultRoute,
  findProcesses,
  natCovers,
  parseFirewall,
  parseIpForward,
  parseIpRoute,
  parseIptables,
  parseNftJson,
  parseNftText,
  parseOsRelease,
  parseProcessList,
} from "../../src/inspect/index.js";
import { fixture } from "./helpers.js";

const cap = (name: string): string => fixture(`captured/${name}`);

describe("parseIpForward", () => {
  it("reads sysctl with and without -n and /proc", () => {
    expect(parseIpForward(cap("sysctl-ip_forward.off.txt"))).toMatchObject({ enabled: false, value: "0", problems: [] });
    expect(parseIpForward(cap("sysctl-n-ip_forward.on.txt"))).toMatchObject({ enabled: true, value: "1" });
    expect(parseIpForward(cap("proc-ip_forward.on.txt")).enabled).toBe(true);
    expect(parseIpForward("net.ipv4.ip_forward=1\r\n").enabled).toBe(true);
    expect(parseIpForward("  \n\t1 \n").enabled).toBe(true);
  });

  it("says it does not know on errors and garbage", () => {
    const denied = parseIpForward("sysctl: cannot stat /proc/sys/net/ipv4/ip_forward: No such file or directory\n");
    expect(denied.enabled).toBeUndefined();
    expect(denied.problems[0]).toMatchObject({ code: "ip-forward-unreadable", line: 1 });
    expect(parseIpForward("").problems[0]?.message).toMatch(/printed nothing/);
    expect(parseIpForward("yes").enabled).toBeUndefined();
  });
});

describe("parseIpRoute and defaultRoute", () => {
  it("finds the gateway in ip -j route, ip -j -p route and ip route of the same namespace", () => {
    for (const name of ["ip-j-route.json", "ip-j-p-route.json", "ip-route.txt", "ip-j-route-show-default.json"]) {
      const table = parseIpRoute(cap(name));
      expect(table.unparsed, name).toEqual([]);
      expect(defaultRoute(table), name).toMatchObject({ dst: "default", gateway: "10.221.1.1", dev: "eth0" });
    }
    const text = parseIpRoute(cap("ip-route.txt"));
    expect(text.format).toBe("text");
    expect(text.routes[1]).toMatchObject({ dst: "10.221.1.0/24", protocol: "kernel", scope: "link", prefsrc: "10.221.1.11", line: 2 });
    expect(parseIpRoute(cap("ip-j-route.json")).routes[1]).toMatchObject({ protocol: "kernel", prefsrc: "10.221.1.11" });
  });

  it("finds no default route when there is none", () => {
    expect(defaultRoute(parseIpRoute(cap("ip-j-route.no-default.json")))).toBeUndefined();
    expect(defaultRoute(parseIpRoute(cap("ip-route.no-default.txt")))).toBeUndefined();
    expect(parseIpRoute("").format).toBe("empty");
  });

  it("reads metrics, multipath, route types, IPv6 gateways and keeps garbage as unparsed", () => {
    const text = [
      "default via 10.0.2.2 dev enp0s3 proto dhcp src 10.0.2.15 metric 100 ",
      "default via 192.168.56.1 dev enp0s8 metric 50 onlink",
      "default proto static metric 1024",
      "\tnexthop via 10.221.1.1 dev eth0 weight 1",
      "\tnexthop via 10.221.2.1 dev eth1 weight 2",
      "blackhole 10.9.0.0/16",
      "unreachable 10.8.0.0/16 metric 5",
      "default via inet6 fe80::1 dev eth0 metric 1024 pref medium",
      "Error: ipv4: FIB table does not exist.",
    ].join("\r\n");
    const table = parseIpRoute(text);
    expect(table.routes).toHaveLength(6);
    expect(table.unparsed).toEqual([{ line: 9, text: "Error: ipv4: FIB table does not exist." }]);
    expect(table.routes[1]?.flags).toEqual(["onlink"]);
    expect(table.routes[2]?.nexthops).toEqual([
      { gateway: "10.221.1.1", dev: "eth0", weight: 1 },
      { gateway: "10.221.2.1", dev: "eth1", weight: 2 },
    ]);
    expect(table.routes[3]).toMatchObject({ type: "blackhole", dst: "10.9.0.0/16" });
    expect(table.routes[5]?.gateway).toBe("fe80::1");
    // The lowest metric wins; the IPv6 default is not the IPv4 one.
    expect(defaultRoute(table)?.gateway).toBe("192.168.56.1");
  });

  it("reports cut JSON and never throws", () => {
    expect(parseIpRoute('[{"dst":"default","gateway":"10.2').problems[0]?.code).toBe("route-json-invalid");
    expect(parseIpRoute('[{"gateway":"10.0.0.1"}, 7]').unparsed).toHaveLength(2);
    for (const garbage of ["[", "{}", "\u0000", "default via", "via via via"]) expect(() => parseIpRoute(garbage)).not.toThrow();
  });
});

describe("firewall readers on the rulesets captured in a namespace", () => {
  it("nft -j and nft list agree on the masquerade and the dropping FORWARD chain", () => {
    for (const [name, format] of [
      ["nft-j-list-ruleset.masquerade.json", "nft-json"],
      ["nft-list-ruleset.masquerade.txt", "nft-text"],
    ] as const) {
      const ruleset = parseFirewall(cap(name));
      expect(ruleset.format).toBe(format);
      expect(ruleset.unparsed).toEqual([]);
      expect(ruleset.natRules).toHaveLength(1);
      expect(ruleset.natRules[0]).toMatchObject({
        kind: "masquerade",
        hook: "postrouting",
        family: "ip",
        saddr: { values: ["10.221.1.0/24"], negated: false },
        oifname: { names: ["eth0"], negated: false },
      });
      expect(ruleset.forwardFilters).toHaveLength(1);
      expect(ruleset.forwardFilters[0]).toMatchObject({ family: "inet", chain: "forward", policy: "drop", filters: true });
      expect(ruleset.forwardFilters[0]?.rejectRules).toHaveLength(1);
      expect(natCovers(ruleset, "10.221.1.0/24")).toMatchObject({ covered: true });
      expect(natCovers(ruleset, "10.221.1.128/25").covered).toBe(true);
      expect(natCovers(ruleset, "10.221.0.0/16").covered).toBe(false);
      expect(natCovers(ruleset, "10.221.2.0/24").reason).toMatch(/does not include 10\.221\.2\.0\/24/);
      expect(natCovers(ruleset, "10.221.1.0/24", { outInterface: "eth0" }).covered).toBe(true);
      expect(natCovers(ruleset, "10.221.1.0/24", { outInterface: "eth1" }).covered).toBe(false);
    }
  });

  it("reads iptables-nft rules in all four renderings", () => {
    const renderings = [
      ["iptables-save-t-nat.txt", "iptables"],
      ["iptables-t-nat-S.txt", "iptables"],
      ["nft-j-list-ruleset.iptables-nft.json", "nft-json"],
      ["nft-list-ruleset.iptables-nft.txt", "nft-text"],
    ] as const;
    for (const [name, format] of renderings) {
      const ruleset = parseFirewall(cap(name));
      expect(ruleset.format, name).toBe(format);
      expect(ruleset.unparsed, name).toEqual([]);
      expect(ruleset.natRules.map((rule) => [rule.kind, rule.saddr?.values ?? null, rule.oifname]), name).toEqual([
        ["masquerade", null, { names: ["eth0"], negated: false }],
        ["snat", ["10.221.2.0/24"], { names: ["eth1"], negated: true }],
      ]);
      // A masquerade without a source match covers any server network.
      expect(natCovers(ruleset, "10.221.1.0/24").by?.kind, name).toBe("masquerade");
      expect(natCovers(ruleset, "10.221.2.0/24", { outInterface: "eth1" }).covered, name).toBe(false);
      expect(natCovers(ruleset, "10.221.2.0/24", { outInterface: "eth2" }).by?.kind, name).toBe("snat");
    }
    // nft's JSON loses the SNAT address of an iptables-nft rule; the other renderings keep it.
    expect(parseFirewall(cap("iptables-save-t-nat.txt")).natRules[1]?.target).toBe("198.51.100.7");
    expect(parseFirewall(cap("nft-list-ruleset.iptables-nft.txt")).natRules[1]?.target).toBe("198.51.100.7");
  });

  it("puts every chain of iptables -t nat -S in the nat table", () => {
    const ruleset = parseIptables(cap("iptables-t-nat-S.txt"));
    expect(new Set(ruleset.chains.map((chain) => chain.table))).toEqual(new Set(["nat"]));
    expect(ruleset.chains.find((chain) => chain.name === "OUTPUT")).toMatchObject({ hook: "output", policy: "accept" });
    expect(parseIptables("-P FORWARD DROP\n", { table: "filter" }).forwardFilters[0]?.policy).toBe("drop");
  });

  it("finds the FORWARD policy in iptables-save and iptables -S FORWARD", () => {
    for (const name of ["iptables-save.full.txt", "iptables-S-FORWARD.txt", "nft-j-list-ruleset.iptables-nft.json"]) {
      const ruleset = parseFirewall(cap(name));
      expect(ruleset.forwardFilters, name).toEqual([
        expect.objectContaining({ chain: "FORWARD", policy: "drop", filters: true }),
      ]);
      expect(ruleset.forwardFilters[0]?.rejectRules[0]?.iifname?.names, name).toEqual(["eth1"]);
    }
    expect(parseFirewall(cap("iptables-save-t-nat.txt")).forwardFilters).toEqual([]);
  });

  it("handles sets, negations, ip6 and old iptables syntax", () => {
    const nft = parseNftText(
      [
        "table inet nat {",
        "\tset servers {",
        "\t\ttype ipv4_addr",
        "\t\telements = { 10.221.1.11,",
        "\t\t\t     10.221.1.12 }",
        "\t}",
        "\tchain postrouting {",
        "\t\ttype nat hook postrouting priority srcnat; policy accept;",
        "\t\tip saddr != { 10.0.0.0/8, 172.16.0.0/12 } oifname { \"eth0\", \"wlan0\" } masquerade",
        "\t\tip6 saddr fd00::/8 masquerade",
        "\t}",
        "}",
      ].join("\n"),
    );
    expect(nft.unparsed).toEqual([]);
    expect(nft.natRules[0]).toMatchObject({ saddr: { values: ["10.0.0.0/8", "172.16.0.0/12"], negated: true }, oifname: { names: ["eth0", "wlan0"] } });
    expect(natCovers(nft, "192.168.100.0/24").covered).toBe(true);
    expect(natCovers(nft, "10.221.1.0/24").covered).toBe(false);
    const old = parseIptables("*nat\n:POSTROUTING ACCEPT [12:720]\n-A POSTROUTING -s 192.168.100.0/255.255.255.0 -o ! eth1 -j MASQUERADE\nCOMMIT\n");
    expect(old.natRules[0]).toMatchObject({ oifname: { names: ["eth1"], negated: true } });
    expect(natCovers(old, "192.168.100.0/24").covered).toBe(true);
    expect(natCovers(old, "192.168.100.0/24", { outInterface: "eth1" }).covered).toBe(false);
    expect(natCovers(parseIptables("-A POSTROUTING -o eth+ -j MASQUERADE\n"), "10.0.0.0/24", { outInterface: "eth0" }).covered).toBe(true);
  });

  it("reports broken input and never throws", () => {
    expect(parseNftJson('{"nftables": [').problems[0]?.code).toBe("nft-json-invalid");
    expect(parseNftJson('{"other": 1}').problems[0]?.code).toBe("nft-json-invalid");
    expect(parseFirewall("").format).toBe("empty");
    expect(parseFirewall("iptables v1.8.9 (nf_tables): Permission denied (you must be root)").format).toBe("unknown");
    expect(parseNftText("table ip nat {\n\tchain postrouting {\n").problems[0]?.code).toBe("nft-text-truncated");
    expect(natCovers([], "10.221.1.0/24").reason).toMatch(/no masquerade/);
    expect(natCovers(parseFirewall(cap("nft-list-ruleset.masquerade.txt")), "not-a-network").covered).toBe(false);
    for (const garbage of ['{"nftables":[{"rule":{"expr":[null,{"match":{}}]}}]}', "-A", "*", ":", "table {", "}}}}"]) {
      expect(() => parseFirewall(garbage)).not.toThrow();
    }
  });
});

describe("parseOsRelease", () => {
  it("reads this machine's Debian 12", () => {
    expect(parseOsRelease(cap("os-release.debian12.txt"))).toMatchObject({
      id: "debian",
      idLike: [],
      family: "debian",
      prettyName: "Debian GNU/Linux 12 (bookworm)",
      versionId: "12",
    });
  });

  it("puts RHEL-like and Ubuntu-like systems in their family, and the rest in other", () => {
    const rocky = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\n';
    expect(parseOsRelease(rocky)).toMatchObject({ id: "rocky", idLike: ["rhel", "centos", "fedora"], family: "rhel" });
    expect(parseOsRelease("ID=ubuntu\r\nID_LIKE=debian\r\n").family).toBe("debian");
    expect(parseOsRelease("ID=fedora\n").family).toBe("rhel");
    expect(parseOsRelease("ID=arch\nPRETTY_NAME='Arch Linux'\n")).toMatchObject({ family: "other", prettyName: "Arch Linux" });
    expect(parseOsRelease('PRETTY_NAME="A \\"quoted\\" name"\n').prettyName).toBe('A "quoted" name');
    expect(parseOsRelease("cat: /etc/os-release: No such file or directory").family).toBe("other");
  });
});

describe("parseProcessList and findProcesses", () => {
  it("finds the keepalived processes in ps -eo pid,comm,args and pgrep -a", () => {
    const ps = parseProcessList(cap("ps-eo-pid-comm-args.keepalived.txt"));
    expect(ps.format).toBe("ps");
    expect(ps.unparsed).toEqual([]);
    expect(ps.processes[0]?.comm).toBe("keepalived");
    expect(ps.processes[0]?.args).toMatch(/^keepalived -n -l -D -f /);
    expect(findProcesses(ps, "keepalived")).toHaveLength(2);
    const pgrep = parseProcessList(cap("pgrep-a-keepalived.txt"));
    expect(pgrep.format).toBe("pgrep");
    expect(findProcesses(pgrep, "keepalived").map((process) => process.pid)).toEqual(ps.processes.map((process) => process.pid));
  });

  it("finds nothing when keepalived is not running", () => {
    expect(findProcesses(parseProcessList(cap("ps-eo-pid-comm-args.header-only.txt")), "keepalived")).toEqual([]);
    expect(parseProcessList("").format).toBe("empty");
  });

  it("is not fooled by grep, shells or names with spaces, and reads pidof and pgrep -l", () => {
    const text = [
      "  PID COMMAND         COMMAND",
      "    1 systemd         /sbin/init",
      "  812 keepalived      /usr/sbin/keepalived --dont-fork -D",
      "  900 grep            grep keepalived",
      "  901 bash            bash -c pgrep keepalived",
      " 1200 Web Content     /usr/lib/firefox/firefox -contentproc",
    ].join("\r\n");
    const list = parseProcessList(text);
    expect(list.processes.find((process) => process.pid === 1200)?.comm).toBe("Web Content");
    expect(findProcesses(list, "keepalived").map((process) => process.pid)).toEqual([812]);
    expect(findProcesses(parseProcessList("812 keepalived\n813 keepalived\n"), "keepalived")).toHaveLength(2);
    expect(parseProcessList("813 812\n")).toMatchObject({ format: "pidof", processes: [{ pid: 813 }, { pid: 812 }] });
    expect(parseProcessList("garbage\n42 keepalived\n").unparsed).toEqual([{ line: 1, text: "garbage" }]);
  });
});
