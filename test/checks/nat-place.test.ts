/**
 * Where net.nat's traffic test can look from (src/runner/nat.ts), on what real machines print:
 * `ip -4 -o addr show`, `ip -4 route get`, nft/iptables-save. The labs themselves are graded from
 * each place in test/lab/topologies.test.ts.
 */
import { describe, expect, it } from "vitest";
import { parseSpecText, type LabSpec } from "../../src/config/index.js";
import {
  chooseTarget,
  natCandidates,
  parseBalancerFacts,
  parseRouteProbe,
  readNatRules,
  routeProbeCommand,
  serviceInterface,
  type RouteTo,
} from "../../src/runner/nat.js";

async function spec(extra: Record<string, unknown> = {}): Promise<LabSpec> {
  const parsed = await parseSpecText(
    JSON.stringify({
      lab: "t",
      vip: { address: "10.220.7.10" },
      balancer: { internalAddress: "10.221.7.1", serviceAddress: "10.220.7.1", ssh: { host: "10.220.7.1" } },
      backends: [
        { name: "webserver1", address: "10.221.7.11" },
        { name: "webserver2", address: "10.221.7.12" },
      ],
      ...extra,
    }),
    { sourceName: "t.json", baseDir: "/" },
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.spec;
}

const ADDR = [
  "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever",
  "2: eth0    inet 10.220.7.1/24 scope global eth0\\       valid_lft forever preferred_lft forever",
  "2: eth0    inet 10.220.7.10/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever",
  "3: eth1    inet 10.221.7.1/24 scope global eth1\\       valid_lft forever preferred_lft forever",
].join("\n");

const facts = (sshConnection: string, forward = "1") => parseBalancerFacts(`ssh:${sshConnection}\n@@addr\n${ADDR}\n@@forward\n${forward}\n`);

describe("the balancer's facts", () => {
  it("reads who the balancer sees, its addresses and forwarding; an empty $SSH_CONNECTION means no SSH", () => {
    const f = facts("10.220.7.2 51234 10.220.7.1 22");
    expect(f.seenAs).toBe("10.220.7.2");
    expect(f.reachedAt).toBe("10.220.7.1");
    expect(f.addresses.map((a) => `${a.ifname} ${a.address}`)).toEqual(["lo 127.0.0.1", "eth0 10.220.7.1", "eth0 10.220.7.10", "eth1 10.221.7.1"]);
    expect(f.ipForward).toBe(true);
    const local = facts("", "0");
    expect(local.seenAs).toBeUndefined();
    expect(local.ipForward).toBe(false);
    expect(parseBalancerFacts("garbage").addresses).toEqual([]);
  });

  it("the service side is where the VIP lives", async () => {
    expect(serviceInterface(await spec(), facts(""))).toBe("eth0");
  });
});

describe("the rules", () => {
  const nft = (rule: string) =>
    `table ip nat {\n chain postrouting {\n  type nat hook postrouting priority srcnat; policy accept;\n  ${rule}\n }\n}\n`;

  it("are trusted only from a reader that ran; an interface that is not the service side covers nothing", async () => {
    const s = await spec();
    const ok = readNatRules(`${nft('oifname "eth0" ip saddr 10.221.7.0/24 masquerade')}@@hagrade nft=0\n@@hagrade iptables=127\n`, s, "eth0");
    expect(ok).toMatchObject({ readable: true, uncovered: [] });
    const wrongWay = readNatRules(`${nft('oifname "eth1" ip saddr 10.221.7.0/24 masquerade')}@@hagrade nft=0\n@@hagrade iptables=127\n`, s, "eth0");
    expect(wrongWay.uncovered).toEqual(["webserver1", "webserver2"]);
    const none = readNatRules("@@hagrade nft=0\n@@hagrade iptables=0\n", s, "eth0");
    expect(none).toMatchObject({ readable: true, uncovered: ["webserver1", "webserver2"] });
    const unreadable = readNatRules("@@hagrade nft=127\n@@hagrade iptables=127\n", s, "eth0");
    expect(unreadable.readable).toBe(false);
    // iptables-save alone (legacy iptables, no nft) is enough.
    const legacy = readNatRules(`@@hagrade nft=127\n*nat\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -s 10.221.7.0/24 -o eth0 -j MASQUERADE\nCOMMIT\n@@hagrade iptables=0\n`, s, "eth0");
    expect(legacy).toMatchObject({ readable: true, uncovered: [] });
  });
});

describe("routes", () => {
  it("tells through a gateway, on a link, to itself, and what could not be read", () => {
    const addresses = ["10.220.7.2", "10.221.7.5", "10.220.7.9", "10.220.7.8"];
    expect(routeProbeCommand(["10.220.7.2"])).toBe("echo '@@route 10.220.7.2'; ip -4 route get 10.220.7.2 2>&1");
    const out = [
      "@@route 10.220.7.2",
      "10.220.7.2 via 10.221.7.1 dev eth0 src 10.221.7.11 uid 0 ",
      "    cache ",
      "@@route 10.221.7.5",
      "10.221.7.5 dev eth0 src 10.221.7.11 uid 0 ",
      "    cache ",
      "@@route 10.220.7.9",
      "local 10.220.7.9 dev lo src 10.220.7.9 uid 0 ",
      "    cache <local> ",
      "@@route 10.220.7.8",
      "sh: 1: ip: not found",
    ].join("\n");
    const routes = parseRouteProbe(out, addresses);
    expect([...routes.values()].map((r) => r.route)).toEqual(["via", "direct", "local", "unknown"]);
    expect(routes.get("10.220.7.2")).toEqual({ route: "via", gateway: "10.221.7.1" });
  });
});

describe("where the traffic test can look from", () => {
  const routes = (entries: Record<string, RouteTo>) => new Map(Object.entries(entries));

  it("from the client network: the address the balancer sees", async () => {
    const found = natCandidates({ spec: await spec(), facts: facts("10.220.7.2 5 10.220.7.1 22"), balancerIsThisMachine: false, localAddresses: ["127.0.0.1", "10.220.7.2", "10.220.7.100"] });
    expect(found).toEqual({ candidates: ["10.220.7.2", "10.220.7.100"], firstTrusted: true });
  });

  it("on the balancer, by the local executor or by SSH to itself: no target, and it says why", async () => {
    const local = natCandidates({ spec: await spec(), facts: facts(""), balancerIsThisMachine: true, localAddresses: ["127.0.0.1", "10.220.7.1", "10.221.7.1"] });
    expect(local).toMatchObject({ none: { place: "on-balancer" } });
    const itself = natCandidates({ spec: await spec(), facts: facts("127.0.0.1 5 127.0.0.1 22"), balancerIsThisMachine: false, localAddresses: ["127.0.0.1", "10.220.7.1", "10.221.7.1"] });
    expect(itself).toMatchObject({ none: { place: "on-balancer" } });
    if ("none" in itself) expect(itself.none.reason.en).toMatch(/sees this machine as 127\.0\.0\.1, an address of its own/);
  });

  it("grader.natTarget.address outside the balancer is tried from anywhere, the balancer too", async () => {
    const target = await spec({ grader: { natTarget: { address: "10.220.7.50", port: 8099 } } });
    expect(natCandidates({ spec: target, facts: facts(""), balancerIsThisMachine: true, localAddresses: ["127.0.0.1", "10.220.7.1"] })).toEqual({ candidates: ["10.220.7.50"], firstTrusted: true });
    // One of the balancer's own addresses would be delivered locally: never a target.
    const own = await spec({ grader: { natTarget: { address: "10.220.7.1", port: 8099 } } });
    expect(natCandidates({ spec: own, facts: facts(""), balancerIsThisMachine: true, localAddresses: ["127.0.0.1", "10.220.7.1"] })).toMatchObject({ none: { place: "on-balancer" } });
  });

  it("behind a port forwarder: the balancer sees an address that is not this machine's", async () => {
    const found = natCandidates({ spec: await spec(), facts: facts("10.220.7.4 5 10.220.7.1 22"), balancerIsThisMachine: false, localAddresses: ["127.0.0.1"] });
    expect(found).toMatchObject({ none: { place: "translated" } });
    if ("none" in found) expect(found.none.reason.en).toMatch(/sees this machine as 10\.220\.7\.4, which is none of its addresses/);
  });

  it("from a host on the server network too: never an address a web server reaches directly", async () => {
    // SSH to the balancer's internal address: it sees the host's server-network address.
    const found = natCandidates({ spec: await spec(), facts: facts("10.221.7.5 5 10.221.7.1 22"), balancerIsThisMachine: false, localAddresses: ["127.0.0.1", "10.221.7.5", "10.220.7.5"] });
    expect(found).toEqual({ candidates: ["10.220.7.5"], firstTrusted: false });
    const onlyServerNetwork = natCandidates({ spec: await spec(), facts: facts("10.221.7.5 5 10.221.7.1 22"), balancerIsThisMachine: false, localAddresses: ["10.221.7.5"] });
    expect(onlyServerNetwork).toMatchObject({ none: { place: "server-network" } });
  });

  it("chooses a target every web server reaches through a gateway and the balancer has on a link", () => {
    const viaBalancer: RouteTo = { route: "via", gateway: "10.221.7.1" };
    const backends = new Map([
      ["webserver1", routes({ "10.220.7.5": viaBalancer, "172.17.0.1": viaBalancer })],
      ["webserver2", routes({ "10.220.7.5": viaBalancer, "172.17.0.1": viaBalancer })],
    ]);
    const balancer = routes({ "172.17.0.1": { route: "via", gateway: "192.168.0.1" }, "10.220.7.5": { route: "direct" } });
    expect(chooseTarget(["172.17.0.1", "10.220.7.5"], false, balancer, backends)).toBe("10.220.7.5");
    const direct = new Map([["webserver1", routes({ "10.220.7.5": { route: "direct" } })]]);
    expect(chooseTarget(["10.220.7.5"], true, balancer, direct)).toBeUndefined();
  });
});
